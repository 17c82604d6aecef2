// @assent/banner in real Chromium against the real collector: what each control records (on the
// device, on the wire, in the store and in the consent ledger), when it asks again, keyboard
// use, GPC, Google Consent Mode, TCF, languages, an axe-core audit, layout shift and screenshots.
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { deviceState } from './harness/browser.mjs'
import { repoRoot } from './harness/collector.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const screenshots = join(repoRoot, 'e2e/screenshots')
const DAY = 86_400_000

/** A page with content, a footer "Privacy choices" link, and a layout-shift observer from the first byte. */
function bannerPage(req, res, url) {
  const cfg = JSON.parse(url.searchParams.get('cfg') || '{}')
  const packs = (cfg.packs || []).map((l) => `<script src="/assent-banner-${l}.min.js"></script>`).join('')
  const paragraph = 'Our mugs are thrown by hand in a small workshop by the sea. Each glaze is mixed in batches of twelve, so no two are quite alike; the handles are pulled, not moulded, and every piece is fired twice.'
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(`<!doctype html><html lang="${cfg.lang || 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Banner fixture</title>
<script>
  window.__shifts = []
  new PerformanceObserver((list) => { for (const e of list.getEntries()) __shifts.push({ value: e.value, hadRecentInput: e.hadRecentInput }) })
    .observe({ type: 'layout-shift', buffered: true })
</script>
${cfg.gtag ? '<script>window.dataLayer = []; function gtag() { dataLayer.push(arguments) }</script>' : ''}
<script src="/assent.min.js"></script><script src="/assent-banner.min.js"></script>${packs}
<script>
  const cfg = ${JSON.stringify(cfg)}
  window.a = Assent.init(cfg.tracker)
  window.banner = AssentBanner.start(a, cfg.banner)
  a.page('Banner fixture')
</script>
<style>
  body { margin: 0; font: 17px/1.6 Georgia, serif; color: #222; background: #fbfaf7 }
  header, footer { padding: 1rem 2rem; background: #263238; color: #fff } header a, footer a { color: #fff; margin-right: 1rem }
  main { max-width: 46rem; margin: 0 auto; padding: 1rem 2rem }
  .hero { height: 220px; background: linear-gradient(120deg, #f4a261, #2a9d8f); border-radius: 12px }
</style></head>
<body><header><nav aria-label="Main"><a href="/shop">Shop</a><a href="/about">About</a><a href="/journal">Journal</a></nav></header>
<main><h1>Handmade mugs</h1><div class="hero" role="img" aria-label="Glazes"></div>
${Array.from({ length: 8 }, (_, i) => `<h2>Batch ${i + 1}</h2><p>${paragraph}</p>`).join('')}
<button id="buy" type="button">Add to cart</button></main>
<footer><a href="#privacy" id="footer-choices" data-assent-privacy-choices>Privacy choices</a><a href="/privacy">Privacy policy</a></footer>
</body></html>`)
}

function asset(file) {
  return (req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
    res.end(readFileSync(join(repoRoot, file)))
  }
}

const routes = { '/banner': bannerPage, '/assent-banner.min.js': asset('sdk/banner/dist/assent-banner.min.js') }
for (const l of ['de', 'es', 'it', 'nl']) routes[`/assent-banner-${l}.min.js`] = asset(`sdk/banner/dist/assent-banner-${l}.min.js`)
const env = setup({ routes })

/** Opens the fixture; `tracker` options are merged over the collector's, `banner` are AssentBanner's. */
async function open({ tracker = {}, banner = {}, gtag, lang, packs, context, initScripts } = {}) {
  const cfg = { tracker: env.config({ ...tracker, consent: { whilePending: 'queue', onDeny: 'anonymous', ...tracker.consent } }), banner, gtag, lang, packs }
  const opened = await env.open({ path: '/banner?cfg=' + encodeURIComponent(JSON.stringify(cfg)), context, initScripts })
  opened.path = '/banner?cfg=' + encodeURIComponent(JSON.stringify(cfg))
  return opened
}

const first = (page) => page.locator('assent-banner dialog.first')
const second = (page) => page.locator('assent-banner dialog.second')
const control = (page, layer, act) => page.locator(`assent-banner dialog.${layer} [data-act=${act}]`)
const reopenButton = (page) => page.locator('assent-banner button.reopen')
const consent = (page) => page.evaluate(() => a.getConsent())
/** The element focused, looking into the banner's shadow root. */
const focused = (page) =>
  page.evaluate(() => {
    let el = document.activeElement
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement
    return el ? { tag: el.tagName.toLowerCase(), act: el.getAttribute('data-act'), name: el.getAttribute('name'), id: el.id, cls: el.className } : null
  })
/** Layout shifts not caused by the visitor's own input: what Cumulative Layout Shift counts. */
const layoutShift = (page) => page.evaluate(() => __shifts.filter((s) => !s.hadRecentInput).reduce((sum, s) => sum + s.value, 0))
const ledger = (consentId) =>
  env.collector.query(`select entry, anonymous_id from consent_ledger where consent_id = '${consentId}' order by id`).map((r) => ({ ...JSON.parse(r.entry), anonymous_id: r.anonymous_id }))
async function waitForLedger(consentId, n) {
  for (let i = 0; i < 100; i++) {
    const rows = ledger(consentId)
    if (rows.length >= n) return rows
    await sleep(100)
  }
  throw new Error(`consent ${consentId}: fewer than ${n} ledger entries: ${JSON.stringify(ledger(consentId))}`)
}
const ALL = ['analytics', 'functional', 'marketing', 'replay']
const stateOf = (c) => ALL.map((k) => c.state[k])

test('first visit: the banner asks, with Reject all and Accept all alike, and nothing is stored or sent', async () => {
  const { page, context, batches, pageErrors } = await open()
  await first(page).waitFor()
  assert.equal(await second(page).isVisible(), false)
  assert.deepEqual(await first(page).locator('button').allInnerTexts(), ['Reject all', 'Accept all', 'Choose…'])
  const look = await page.evaluate(() => {
    const root = document.querySelector('assent-banner').shadowRoot
    const css = (act) => {
      const s = getComputedStyle(root.querySelector(`.first [data-act=${act}]`))
      const r = root.querySelector(`.first [data-act=${act}]`).getBoundingClientRect()
      return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderTopWidth, Math.round(r.height)]
    }
    return { accept: css('accept'), reject: css('reject') }
  })
  assert.deepEqual(look.reject, look.accept, 'refusing looks exactly as easy as accepting')
  assert.equal((await focused(page)).cls, 'first', 'focus moved into the dialog')
  assert.equal(await page.locator('assent-banner dialog.first[aria-labelledby=t1]').count(), 1)

  await page.evaluate(() => a.track('before any choice'))
  await sleep(400)
  assert.deepEqual(await page.evaluate(() => window.__writes), [], 'no storage write at all before a choice')
  const device = await deviceState(page)
  assert.deepEqual([device.cookies, device.localStorage, device.sessionStorage, device.indexedDB], [[], {}, {}, []])
  assert.equal(batches.length, 0, 'events wait in memory until the visitor chooses')
  assert.equal(await reopenButton(page).isVisible(), false)
  assert.equal(await layoutShift(page), 0, 'the banner shifts nothing')
  // The measurement itself works: content pushed down by a script counts.
  await page.evaluate(() => document.querySelector('main').prepend(Object.assign(document.createElement('div'), { style: 'height: 80px' })))
  await page.waitForFunction(() => __shifts.length > 0)
  assert.ok((await layoutShift(page)) > 0, 'a real shift is measured')
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('Reject all: events arrive without identifiers, the ledger has the refusal, only the choice is stored', async () => {
  const { page, context } = await open({ tracker: { consent: { revision: 'r-reject' } } })
  await page.evaluate(() => a.track('reject: before the choice'))
  await control(page, 'first', 'reject').click()
  await page.evaluate(async () => {
    a.track('reject: after the choice')
    await a.flush()
  })
  assert.equal(await first(page).isVisible(), false)
  assert.equal(await reopenButton(page).isVisible(), true, 'the Privacy choices button takes its place')
  const c = await consent(page)
  assert.deepEqual(stateOf(c), ['denied', 'denied', 'denied', 'denied'])
  assert.equal(c.source, 'banner')
  const rows = await env.collector.waitFor((r) => r.length === 1, `event = 'reject: after the choice'`)
  assert.equal(rows[0].anonymous_id, null)
  assert.equal(rows[0].user_id, null)
  assert.equal(rows[0].payload.context.anonymous, 'server')
  assert.equal(env.collector.events(`event = 'reject: before the choice'`).length, 0, 'held events are dropped on a refusal')
  const [entry] = await waitForLedger(c.id, 1)
  assert.equal(entry.source, 'banner')
  assert.equal(entry.revision, 'r-reject')
  assert.deepEqual(JSON.parse(entry.states), { analytics: 'denied', functional: 'denied', marketing: 'denied', necessary: 'granted', replay: 'denied' })
  const keys = Object.keys((await deviceState(page)).localStorage)
  assert.deepEqual(keys, ['ast_pk_demo_consent'], 'the tracker’s own consent record, no second cookie or key')
  assert.deepEqual((await deviceState(page)).cookies.map((x) => x.name), ['ast_pk_demo_consent'])
  assert.equal(await layoutShift(page), 0)
  await context.close()
})

test('Accept all: identified events, and a ledger entry with source banner and the policy revision', async () => {
  const { page, context } = await open({ tracker: { consent: { revision: '2026-11' } } })
  await page.evaluate(() => a.track('accept: held until the choice'))
  await control(page, 'first', 'accept').click()
  await page.evaluate(async () => {
    a.track('accept: after the choice')
    await a.flush()
  })
  const c = await consent(page)
  assert.deepEqual(stateOf(c), ['granted', 'granted', 'granted', 'granted'])
  const anonymousId = await page.evaluate(() => a.user().anonymousId())
  const rows = await env.collector.waitFor((r) => r.length === 2, `event like 'accept: %'`)
  for (const r of rows) assert.equal(r.anonymous_id, anonymousId, `${r.event} is identified`)
  const entries = await waitForLedger(c.id, 1)
  assert.equal(entries.at(-1).source, 'banner')
  assert.equal(entries.at(-1).revision, '2026-11')
  assert.equal(entries.at(-1).anonymous_id, anonymousId, 'the proof names who chose')
  assert.equal(JSON.parse(entries.at(-1).states).replay, 'granted')
  assert.equal(await layoutShift(page), 0)

  // The next page knows the choice: no banner, the entry point instead.
  await page.reload()
  await reopenButton(page).waitFor()
  assert.equal(await first(page).isVisible(), false)
  await context.close()
})

test('Choose…: no switch pre-ticked, necessary always on, one category granted', async () => {
  const { page, context } = await open()
  await control(page, 'first', 'choose').click()
  await second(page).waitFor()
  assert.equal(await first(page).isVisible(), false)
  const switches = await second(page).locator('input[role=switch]').evaluateAll((els) => els.map((e) => [e.name, e.checked, e.disabled]))
  assert.deepEqual(switches, [
    ['necessary', true, true],
    ['analytics', false, false],
    ['functional', false, false],
    ['marketing', false, false],
    ['replay', false, false],
  ])
  assert.match(await second(page).innerText(), /Always on/)
  assert.match(await second(page).innerText(), /What you type is hidden/)
  await second(page).locator('input[name=functional]').check()
  await control(page, 'second', 'save').click()
  assert.equal(await second(page).isVisible(), false)
  const c = await consent(page)
  assert.deepEqual(stateOf(c), ['denied', 'granted', 'denied', 'denied'])
  const [entry] = await waitForLedger(c.id, 1)
  assert.equal(JSON.parse(entry.states).functional, 'granted')
  assert.equal(entry.source, 'banner')

  // Reopened, the switches show the choice as it is.
  await reopenButton(page).click()
  const shown = await second(page).locator('input[role=switch]:not([disabled])').evaluateAll((els) => els.map((e) => e.checked))
  assert.deepEqual(shown, [false, true, false, false])
  // Replay needs analytics: switching it on takes analytics along.
  await second(page).locator('input[name=replay]').check()
  assert.equal(await second(page).locator('input[name=analytics]').isChecked(), true)
  await context.close()
})

test('closing the banner without a choice is not consent', async () => {
  const { page, context, batches } = await open()
  await first(page).waitFor()
  await page.keyboard.press('Escape')
  assert.equal(await first(page).isVisible(), false)
  assert.equal(await reopenButton(page).isVisible(), true)
  const c = await consent(page)
  assert.equal(c.decided, false)
  assert.deepEqual(stateOf(c), ['pending', 'pending', 'pending', 'pending'])
  await sleep(300)
  assert.deepEqual(await page.evaluate(() => window.__writes), [])
  assert.equal(batches.length, 0)
  await page.reload()
  await first(page).waitFor({ timeout: 5000 })
  await context.close()
})

test('a new policy revision asks again', async () => {
  const { page, context } = await open({ tracker: { consent: { revision: 'v1' } } })
  await control(page, 'first', 'accept').click()
  await page.reload()
  await reopenButton(page).waitFor()
  assert.equal(await first(page).isVisible(), false, 'same revision: not asked again')

  // Same browser profile, new revision.
  const cfg = { tracker: env.config({ consent: { whilePending: 'queue', revision: 'v2' } }), banner: {} }
  await page.goto(env.site.url('www.shop.test', '/banner?cfg=' + encodeURIComponent(JSON.stringify(cfg))))
  await first(page).waitFor()
  const c = await consent(page)
  assert.equal(c.decided, false)
  assert.equal(c.revision, 'v2')
  await control(page, 'first', 'reject').click()
  const entries = await waitForLedger(c.id, 2)
  assert.deepEqual(entries.map((e) => [e.revision, e.source]), [['v1', 'banner'], ['v2', 'banner']])
  await context.close()
})

test('a choice older than its lifetime is asked again', async () => {
  const { page, context, path } = await open({ banner: { lifetimeDays: { granted: 30 } } })
  await control(page, 'first', 'accept').click()
  const chosenAt = (await consent(page)).timestamp

  await page.clock.setFixedTime(chosenAt + 29 * DAY)
  await page.reload()
  await reopenButton(page).waitFor()
  assert.equal(await first(page).isVisible(), false, 'within its lifetime the choice holds')

  await page.clock.setFixedTime(chosenAt + 31 * DAY)
  await page.reload()
  await first(page).waitFor()
  assert.equal((await consent(page)).decided, true, 'the tracker still holds it: the banner’s own, shorter lifetime asks')
  await control(page, 'first', 'choose').click()
  assert.equal(await second(page).locator('input[name=analytics]').isChecked(), false, 'asked again from scratch: nothing pre-ticked')
  await control(page, 'second', 'reject').click()
  assert.equal((await consent(page)).timestamp, chosenAt + 31 * DAY)

  // The CNIL defaults, through the tracker's own expiry: a refusal holds 6 months.
  await page.clock.setFixedTime(chosenAt + (31 + 183) * DAY)
  await page.goto(env.site.url('www.shop.test', path))
  await first(page).waitFor()
  assert.equal((await consent(page)).decided, false)
  await context.close()
})

test('Privacy choices reopens the banner; withdrawing purges what the tracker queued', async () => {
  const { page, context, batches } = await open({ tracker: { delivery: { flushIntervalMs: 60_000 } } })
  await control(page, 'first', 'accept').click()
  await page.evaluate(() => {
    a.track('withdrawn: queued 1')
    a.track('withdrawn: queued 2')
  })
  assert.match(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue')), /withdrawn: queued 1/)
  await reopenButton(page).click()
  await second(page).waitFor()
  const shown = await second(page).locator('input[role=switch]:not([disabled])').evaluateAll((els) => els.map((e) => e.checked))
  assert.deepEqual(shown, [true, true, true, true], 'the current choice')
  await control(page, 'second', 'reject').click()
  const after = await page.evaluate(() => ({ stats: a.stats(), consent: a.getConsent(), queue: localStorage.getItem('ast_pk_demo_queue') }))
  assert.deepEqual(stateOf(after.consent), ['denied', 'denied', 'denied', 'denied'])
  assert.ok(after.stats.dropped.withdrawn >= 3, 'the page view and both events were purged: ' + JSON.stringify(after.stats))
  assert.equal(after.queue, null, 'the durable queue left the device')
  assert.equal(await reopenButton(page).isVisible(), true)
  await page.evaluate(() => a.flush())
  const sent = batches.flatMap((b) => b.events)
  assert.deepEqual(sent.map((e) => e.type), ['consent', 'consent'], 'only the proofs of the two choices leave')
  for (const e of sent) assert.equal(e.anonymousId, undefined)
  assert.equal(env.collector.events(`event like 'withdrawn: %'`).length, 0)
  const entries = await waitForLedger(after.consent.id, 2)
  assert.deepEqual(entries.map((e) => [e.source, JSON.parse(e.states).analytics]), [['banner', 'granted'], ['banner', 'denied']])

  // Any element with the data attribute is an entry point too.
  await page.click('#footer-choices')
  await second(page).waitFor()
  await control(page, 'second', 'close').click()
  assert.equal(await second(page).isVisible(), false)
  assert.equal((await focused(page)).id, 'footer-choices', 'focus returns to the entry point')
  await context.close()
})

test('keyboard only: every choice, both entry points, Escape, focus moved in and back, visible focus', async () => {
  const { page, context } = await open()
  const k = page.keyboard
  await first(page).waitFor()
  await k.press('Tab')
  assert.equal((await focused(page)).act, 'reject')
  const outline = await page.evaluate(() => {
    const b = document.querySelector('assent-banner').shadowRoot.querySelector('.first [data-act=reject]')
    const s = getComputedStyle(b)
    return [s.outlineStyle, s.outlineWidth]
  })
  assert.deepEqual(outline, ['solid', '3px'], 'keyboard focus is visible')
  await k.press('Tab')
  assert.equal((await focused(page)).act, 'accept')
  await k.press('Tab')
  assert.equal((await focused(page)).act, 'choose')
  await k.press('Enter')
  await second(page).waitFor()
  assert.equal((await focused(page)).cls, 'second', 'focus moved into the second layer')
  // Escape goes back to the first layer, on Choose…
  await k.press('Escape')
  await first(page).waitFor()
  assert.equal((await focused(page)).act, 'choose')
  await k.press('Enter')
  await second(page).waitFor()
  const tabTo = async (want, max = 12) => {
    for (let i = 0; i < max; i++) {
      await k.press('Tab')
      const f = await focused(page)
      if (f && (f.act === want || f.name === want || f.id === want)) return
    }
    throw new Error(`Tab never reached ${want}; at ${JSON.stringify(await focused(page))}`)
  }
  await tabTo('analytics')
  await k.press('Space')
  await tabTo('save')
  await k.press('Enter')
  assert.equal(await second(page).isVisible(), false)
  assert.deepEqual(stateOf(await consent(page)), ['granted', 'denied', 'denied', 'denied'])

  // The footer link (data attribute), by keyboard: reopen, withdraw in one go.
  await tabTo('footer-choices', 40)
  await k.press('Enter')
  await second(page).waitFor()
  await tabTo('reject')
  await k.press('Enter')
  assert.deepEqual(stateOf(await consent(page)), ['denied', 'denied', 'denied', 'denied'])
  assert.equal((await focused(page)).id, 'footer-choices', 'focus restored to where it was')

  // The floating button, by keyboard: Accept all; Escape on a reopened layer closes it unchanged.
  await tabTo('reopen', 40)
  await k.press('Enter')
  await second(page).waitFor()
  await k.press('Escape')
  assert.equal(await second(page).isVisible(), false)
  assert.equal((await focused(page)).act, 'reopen')
  assert.deepEqual(stateOf(await consent(page)), ['denied', 'denied', 'denied', 'denied'])
  await k.press('Enter')
  await second(page).waitFor()
  await tabTo('accept')
  await k.press('Enter')
  assert.deepEqual(stateOf(await consent(page)), ['granted', 'granted', 'granted', 'granted'])

  // A fresh visitor rejects with the keyboard alone.
  const fresh = await open()
  await first(fresh.page).waitFor()
  await fresh.page.keyboard.press('Tab')
  await fresh.page.keyboard.press('Enter')
  assert.deepEqual(stateOf(await consent(fresh.page)), ['denied', 'denied', 'denied', 'denied'])
  await fresh.context.close()
  await context.close()
})

test('Global Privacy Control: the banner says the signal was applied and never asks for marketing', async () => {
  const gpc = () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })
  const { page, context } = await open({ initScripts: [gpc] })
  await first(page).waitFor()
  assert.match(await first(page).innerText(), /Global Privacy Control signal was applied: marketing stays off/)
  await control(page, 'first', 'choose').click()
  const marketing = second(page).locator('input[name=marketing]')
  assert.equal(await marketing.isDisabled(), true)
  assert.equal(await marketing.isChecked(), false)
  await control(page, 'second', 'accept').click()
  const c = await consent(page)
  assert.deepEqual(stateOf(c), ['granted', 'granted', 'denied', 'granted'])
  const [entry] = await waitForLedger(c.id, 1)
  assert.equal(JSON.parse(entry.states).marketing, 'denied')
  assert.equal(entry.source, 'banner')
  await context.close()
})

test('Google Consent Mode v2: denied defaults before any choice, an update on each choice and on later pages', async () => {
  const { page, context } = await open({ gtag: true })
  await first(page).waitFor()
  const calls = () => page.evaluate(() => dataLayer.map((args) => Array.from(args)))
  const denied = {
    ad_personalization: 'denied',
    ad_storage: 'denied',
    ad_user_data: 'denied',
    analytics_storage: 'denied',
    functionality_storage: 'denied',
    personalization_storage: 'denied',
    security_storage: 'granted',
  }
  const granted = Object.fromEntries(Object.keys(denied).map((k) => [k, 'granted']))
  assert.deepEqual(await calls(), [['consent', 'default', denied]], 'defaults before any choice, nothing else')
  await control(page, 'first', 'choose').click()
  await second(page).locator('input[name=analytics]').check()
  await control(page, 'second', 'save').click()
  assert.deepEqual((await calls()).at(-1), ['consent', 'update', { ...denied, analytics_storage: 'granted' }])
  await reopenButton(page).click()
  await control(page, 'second', 'accept').click()
  assert.deepEqual((await calls()).at(-1), ['consent', 'update', granted])
  await page.reload()
  await reopenButton(page).waitFor()
  assert.deepEqual(await calls(), [
    ['consent', 'default', denied],
    ['consent', 'update', granted],
  ])
  await context.close()
})

test('an IAB TCF CMP on the page: the banner steps aside and the tracker follows the CMP', async () => {
  const cmp = () => {
    const listeners = []
    window.__tcfapi = (command, version, callback) => command === 'addEventListener' && listeners.push(callback)
    window.cmpDecides = (consents) => listeners.forEach((l) => l({ gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents } }, true))
  }
  const { page, context } = await open({ initScripts: [cmp] })
  await sleep(300)
  assert.equal(await page.locator('assent-banner').count(), 0, 'no second banner')
  await page.evaluate(() => cmpDecides({ 1: true, 8: true, 9: true }))
  const c = await consent(page)
  assert.equal(c.source, 'tcf')
  assert.equal(c.state.analytics, 'granted')
  await context.close()
})

test('languages: French built in, add-on packs, the site’s own texts and categories', async () => {
  const fr = await open({ lang: 'fr-FR' })
  await first(fr.page).waitFor()
  assert.deepEqual(await first(fr.page).locator('button').allInnerTexts(), ['Tout refuser', 'Tout accepter', 'Personnaliser…'])
  await fr.context.close()

  const de = await open({ lang: 'de', packs: ['de'] })
  await first(de.page).waitFor()
  assert.deepEqual(await first(de.page).locator('button').allInnerTexts(), ['Alle ablehnen', 'Alle akzeptieren', 'Auswählen…'])
  await de.context.close()

  const custom = await open({
    tracker: { consent: { categories: ['newsletter'] } },
    banner: { policyUrl: '/privacy', texts: { accept: 'Allow all', categories: { newsletter: ['Newsletter', 'Tells us which e-mails you open.'] } } },
  })
  await first(custom.page).waitFor()
  assert.equal(await control(custom.page, 'first', 'accept').innerText(), 'Allow all')
  assert.equal(await first(custom.page).locator('a[href="/privacy"]').innerText(), 'Privacy policy')
  await control(custom.page, 'first', 'choose').click()
  assert.match(await second(custom.page).innerText(), /Newsletter\s+Tells us which e-mails you open/)
  await second(custom.page).locator('input[name=newsletter]').check()
  await control(custom.page, 'second', 'save').click()
  assert.equal((await consent(custom.page)).state.newsletter, 'granted')
  await custom.context.close()
})

test('a visitor who opted out is not asked; Privacy choices says so and lets them opt back in', async () => {
  const { page, context } = await open()
  await page.evaluate(() => a.optOut())
  await page.reload()
  await reopenButton(page).waitFor()
  assert.equal(await first(page).isVisible(), false)
  await reopenButton(page).click()
  assert.match(await second(page).innerText(), /You opted out/)
  await second(page).locator('input[name=analytics]').check()
  await control(page, 'second', 'save').click()
  const c = await page.evaluate(() => ({ optedOut: a.isOptedOut(), consent: a.getConsent() }))
  assert.equal(c.optedOut, false)
  assert.deepEqual(stateOf(c.consent), ['granted', 'denied', 'denied', 'denied'])
  assert.equal(c.consent.source, 'banner')
  await context.close()
})

test('reduced motion: the banner appears without animation', async () => {
  const animation = async (reducedMotion) => {
    const { page, context } = await open({ context: { reducedMotion } })
    await first(page).waitFor()
    const name = await page.evaluate(() => getComputedStyle(document.querySelector('assent-banner').shadowRoot.querySelector('.first')).animationName)
    await context.close()
    return name
  }
  assert.equal(await animation('no-preference'), 'in', 'it slides in by default')
  assert.equal(await animation('reduce'), 'none')
})

const axePath = join(repoRoot, 'node_modules/axe-core/axe.min.js')
async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath })
  return page.evaluate(async () => (await axe.run(document)).violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) })))
}

test('axe-core finds no violation in either layer, light or dark', async () => {
  for (const colorScheme of ['light', 'dark']) {
    const { page, context } = await open({ context: { colorScheme } })
    await first(page).waitFor()
    await sleep(250) // the entrance animation ends: contrast is measured on final colours
    assert.deepEqual(await axe(page), [], `${colorScheme}, first layer`)
    await control(page, 'first', 'choose').click()
    await sleep(250)
    assert.deepEqual(await axe(page), [], `${colorScheme}, second layer`)
    // The audit sees into the banner: a site colour with too little contrast is caught.
    await page.addStyleTag({ content: 'assent-banner { --assent-accent: #b8c4e0; --assent-bg: #fff }' })
    assert.ok((await axe(page)).some((v) => v.id === 'color-contrast'), `${colorScheme}: a low-contrast accent is reported`)
    await context.close()
  }
})

test('screenshots at desktop and phone widths, light and dark; no layout shift at either width', async () => {
  mkdirSync(screenshots, { recursive: true })
  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } }
  for (const [name, viewport] of Object.entries(sizes))
    for (const colorScheme of ['light', 'dark']) {
      const { page, context } = await open({ context: { viewport, colorScheme, deviceScaleFactor: name === 'phone' ? 2 : 1 } })
      await first(page).waitFor()
      await sleep(300)
      assert.equal(await layoutShift(page), 0, `${name} ${colorScheme}`)
      await page.screenshot({ path: `${screenshots}/banner-${name}-${colorScheme}-first.png` })
      await control(page, 'first', 'choose').click()
      await second(page).locator('input[name=analytics]').check()
      await sleep(300)
      await page.screenshot({ path: `${screenshots}/banner-${name}-${colorScheme}-second.png` })
      await control(page, 'second', 'save').click()
      await sleep(100)
      await page.screenshot({ path: `${screenshots}/banner-${name}-${colorScheme}-closed.png` })
      assert.equal(await layoutShift(page), 0, `${name} ${colorScheme}, after the choice`)
      await context.close()
    }
})
