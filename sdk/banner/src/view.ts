/**
 * The banner's DOM, in an open shadow root so the site's CSS neither reaches in nor is touched:
 * the first layer (a non-modal dialog), the second layer (a modal dialog with one switch per
 * category) and the "Privacy choices" button. Styles come from banner.css, minified at build.
 */
import { BannerTexts, categoryText } from './texts'


export interface BannerView {
  host: HTMLElement
  root: ShadowRoot
  first: HTMLDialogElement
  second: HTMLDialogElement
  reopen: HTMLButtonElement
  note: HTMLElement
  switches: Record<string, HTMLInputElement>
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';')

const button = (act: string, label: string, cls = '') => `<button type="button" data-act="${act}"${cls && ` class="${cls}"`}>${escape(label)}</button>`

export function renderBanner(t: BannerTexts, categories: string[], options: { policyUrl?: string; gpc: boolean }): BannerView {
  const host = document.createElement('assent-banner')
  const root = host.attachShadow({ mode: 'open' })
  const policy = options.policyUrl ? ` <a href="${escape(options.policyUrl)}">${escape(t.policy)}</a>` : ''
  const gpc = options.gpc ? `<p class="note">${escape(t.gpc)}</p>` : ''
  const row = (category: string, fixed: boolean) => {
    const [label, purpose] = categoryText(t, category)
    const c = escape(category)
    const on = fixed ? ` checked disabled aria-describedby="p-${c} a-${c}"` : ` aria-describedby="p-${c}"`
    return `<li><div><label for="c-${c}">${escape(label)}</label>${fixed ? ` <span id="a-${c}">${escape(t.alwaysOn)}</span>` : ''}<p id="p-${c}">${escape(purpose)}</p></div><input type="checkbox" role="switch" id="c-${c}" name="${c}"${on}></li>`
  }
  root.innerHTML =
    `<style>${__BANNER_CSS__}</style>` +
    `<dialog class="first" aria-labelledby="t1" aria-describedby="d1" tabindex="-1"><h2 id="t1">${escape(t.title)}</h2><p id="d1">${escape(t.body)}${policy}</p>${gpc}` +
    `<div class="row">${button('reject', t.reject)}${button('accept', t.accept)}${button('choose', t.choose, 'alt')}</div></dialog>` +
    `<dialog class="second" aria-labelledby="t2" tabindex="-1"><h2 id="t2">${escape(t.settings)}</h2>${button('close', '×', 'x')}<p class="note" id="n2" hidden></p>${gpc}` +
    `<ul>${row('necessary', true)}${categories.map((c) => row(c, false)).join('')}</ul>` +
    `<div class="row">${button('reject', t.reject)}${button('accept', t.accept)}${button('save', t.save, 'alt')}</div></dialog>` +
    `${button('reopen', t.reopen, 'reopen')}`
  const $ = <T extends Element>(selector: string) => root.querySelector(selector) as T
  const switches: Record<string, HTMLInputElement> = {}
  for (const c of categories) switches[c] = root.getElementById('c-' + c) as HTMLInputElement
  $('.x').setAttribute('aria-label', t.close)
  const reopen = $<HTMLButtonElement>('.reopen')
  reopen.hidden = true
  return { host, root, first: $('.first'), second: $('.second'), reopen, note: $('#n2'), switches }
}
