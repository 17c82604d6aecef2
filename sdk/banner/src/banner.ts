/**
 * The banner's behaviour: when to ask, what each control records (always through the tracker's
 * `setConsent(…, { source: 'banner' })`, which keeps the choice as its own consent record and
 * sends it to the consent ledger), focus handling, Google Consent Mode and TCF.
 */
import { followTcf } from '@assent/browser'
import { askedCategories, everything, followDependencies, fromSwitches, initialSwitches, shouldAsk } from './choice'
import { googleConsent, undecided } from './google-consent-mode'
import type { BannerHost, ConsentValue } from './host'
import { BannerOptions, resolveOptions } from './options'
import { BannerTexts, mergeTexts, pickLanguage } from './texts'
import { BannerView, renderBanner } from './view'

export interface Banner {
  /** Opens the second layer (one switch per category), as the "Privacy choices" entry point does. */
  open(): void
  /** Closes whatever is open, recording nothing. */
  close(): void
}

type Gtag = (command: 'consent', action: 'default' | 'update', params: Record<string, string>) => void

const REOPEN_ATTRIBUTE = 'data-assent-privacy-choices'

/** Starts the banner for a tracker; `builtIn` holds the language packs bundled with this build. */
export function createBanner(tracker: BannerHost, options: BannerOptions, builtIn: Record<string, BannerTexts>): Banner {
  const o = resolveOptions(options, builtIn)
  const idle: Banner = { open() {}, close() {} }
  // A site with an IAB TCF CMP already asks: the tracker follows the CMP, the banner stays out.
  if (o.tcf && followTcf(tracker)) return idle

  const gpc = o.respectGPC && (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true
  const locked = gpc ? ['marketing'] : []
  const start = tracker.getConsent()

  const gtag = (window as { gtag?: Gtag }).gtag
  if (o.googleConsentMode && typeof gtag === 'function') {
    gtag('consent', 'default', googleConsent(undecided(start, gpc)))
    if (start.decided) gtag('consent', 'update', googleConsent(start))
    tracker.onConsentChange((c) => gtag('consent', 'update', googleConsent(c)))
  }

  const lang = pickLanguage(Object.keys(o.languages), [o.lang, document.documentElement.lang, ...navigator.languages])
  const texts = mergeTexts(o.languages[lang], o.texts)
  const categories = askedCategories(start, o.categories)
  let view: BannerView | undefined
  /** Where focus goes back to when the banner closes. */
  let returnTo: Element | null = null
  /** The visitor is being asked (first layer shown on this page and no choice made yet). */
  let asking = false
  let scrollPadding: [string, string] | undefined

  const ready = (): BannerView => {
    if (view) return view
    const v = (view = renderBanner(texts, categories, { policyUrl: o.policyUrl, gpc }))
    v.root.addEventListener('click', (e) => act((e.target as Element).closest('[data-act]')?.getAttribute('data-act')))
    v.root.addEventListener('change', (e) => {
      const changed = (e.target as HTMLInputElement).name
      const flips = followDependencies(switchStates(), changed)
      for (const c of Object.keys(flips)) v.switches[c].checked = flips[c]
    })
    v.second.addEventListener('cancel', (e) => {
      e.preventDefault()
      back()
    })
    v.first.addEventListener('keydown', (e) => e.key === 'Escape' && close())
    document.body.appendChild(v.host)
    return v
  }

  const switchStates = () => {
    const on: Record<string, boolean> = {}
    for (const c of categories) on[c] = view!.switches[c].checked
    return on
  }

  function act(action: string | null | undefined): void {
    if (action === 'accept') choose(everything(categories, 'granted', locked))
    else if (action === 'reject') choose(everything(categories, 'denied', locked))
    else if (action === 'save') choose(fromSwitches(categories, (c) => view!.switches[c].checked, locked))
    else if (action === 'choose') openSecond()
    else if (action === 'close') back()
    else if (action === 'reopen') open()
  }

  function choose(changes: Record<string, ConsentValue>): void {
    const grants = Object.values(changes).includes('granted')
    if (tracker.isOptedOut()) {
      // Opting back in is an explicit request of the visitor's; a refusal changes nothing.
      if (grants) tracker.optIn()
    }
    if (!tracker.isOptedOut()) tracker.setConsent(changes, { source: 'banner' })
    asking = false
    close()
  }

  /** Keeps where focus is, unless it is already in a layer (moving from one layer to the other). */
  function remember(): void {
    const inner = view && view.root.activeElement
    if (!inner || !(view!.first.contains(inner) || view!.second.contains(inner))) returnTo = inner || document.activeElement
  }

  function showFirst(again = false): void {
    const v = ready()
    if (!again) remember()
    asking = true
    v.reopen.hidden = true
    v.first.show()
    v.first.focus()
    keepFocusVisible(v.first)
  }

  function openSecond(): void {
    const v = ready()
    remember()
    const current = tracker.getConsent()
    const on = initialSwitches(current, categories, asking || shouldAsk(current, false, o.lifetime, Date.now()))
    for (const c of categories) {
      v.switches[c].checked = on[c] && !locked.includes(c)
      v.switches[c].disabled = locked.includes(c)
    }
    v.note.hidden = !tracker.isOptedOut()
    v.note.textContent = texts.optedOut
    v.reopen.hidden = true
    if (v.first.open) v.first.close()
    releaseScroll()
    v.second.showModal()
    v.second.focus()
  }

  /** The second layer's Close and Escape: back to the first layer while asking, otherwise closed. */
  function back(): void {
    if (!asking) return close()
    view!.second.close()
    showFirst(true)
    ;(view!.root.querySelector('[data-act=choose]') as HTMLElement).focus()
  }

  function open(): void {
    openSecond()
  }

  function close(): void {
    if (!view) return
    if (view.first.open) view.first.close()
    if (view.second.open) view.second.close()
    releaseScroll()
    view.reopen.hidden = !o.button
    const target = returnTo as HTMLElement | null
    returnTo = null
    if (target && target !== document.body && target.isConnected && target.focus) target.focus()
    else (document.activeElement as HTMLElement | null)?.blur?.()
  }

  /**
   * While the non-modal first layer covers part of the window, the page keeps a scroll padding
   * of its height, so an element that gets keyboard focus scrolls clear of it instead of hiding
   * behind it (WCAG 2.2 "Focus Not Obscured"). No element moves: no layout shift.
   */
  function keepFocusVisible(dialog: HTMLElement): void {
    const r = dialog.getBoundingClientRect()
    const style = document.documentElement.style
    const bottom = r.top > innerHeight / 2
    scrollPadding = [bottom ? 'scrollPaddingBottom' : 'scrollPaddingTop', style[bottom ? 'scrollPaddingBottom' : 'scrollPaddingTop']]
    style[scrollPadding[0] as 'scrollPaddingTop'] = Math.ceil(bottom ? innerHeight - r.top : r.bottom) + 'px'
  }

  function releaseScroll(): void {
    if (!scrollPadding) return
    document.documentElement.style[scrollPadding[0] as 'scrollPaddingTop'] = scrollPadding[1]
    scrollPadding = undefined
  }

  // Any element of the site can be the entry point (a footer link, a settings page button).
  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element && e.target.closest(`[${REOPEN_ATTRIBUTE}]`)
    if (!el) return
    e.preventDefault()
    openSecond()
    returnTo = el
  })

  const render = () => {
    if (shouldAsk(tracker.getConsent(), tracker.isOptedOut(), o.lifetime, Date.now())) showFirst()
    else if (o.button) ready().reopen.hidden = false
  }
  if (document.body) render()
  else document.addEventListener('DOMContentLoaded', render)

  return { open, close }
}
