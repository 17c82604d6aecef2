// The server-id plugin (assent-server-id.min.js) uses the collector's HttpOnly first-party id
// cookie (GET /v1/id), which Safari's ITP does not cap at 7 days, to get back an anonymousId the
// tracker's own storage lost. The page (www.shop.test) and the collector (collect.shop.test) are
// same-site, as a first-party collector subdomain would be, so the Lax cookie is sent.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { storedAnonymousId } from './harness/browser.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const COOKIE = 'ast_id_demo'
const DAY = 86_400
const collect = () => `http://collect.shop.test:${env.collector.port}`
const config = (over = {}) => env.config({ endpoint: collect(), plugins: [['serverId']], ...over })

/** A fresh profile; every /v1/id request and answer is recorded. `a` is the page's tracker. */
async function open(init) {
  const context = await env.browser.newContext()
  const calls = []
  context.on('request', (req) => {
    if (!req.url().includes('/v1/id')) return
    const call = { query: Object.fromEntries(new URL(req.url()).searchParams), headers: req.headers() }
    calls.push(call)
    req.response().then(async (res) => {
      call.status = res?.status()
      call.body = await res?.json().catch(() => undefined)
    }, () => undefined)
  })
  // `?atload` pages track an event the moment the tracker exists, before any answer can arrive.
  await context.addInitScript(() => {
    if (!location.search.includes('atload')) return
    let tracker
    Object.defineProperty(window, 'a', {
      configurable: true,
      get: () => tracker,
      set: (t) => {
        tracker = t
        t.track('sid at load')
      },
    })
  })
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e))
  await page.goto(env.site.url('www.shop.test', '/', init))
  return { context, page, calls, pageErrors }
}

async function until(check, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(25)
  }
}

/** Waits for the nth (1-based) answered /v1/id call and returns it. */
const answered = (calls, n) => until(() => calls.length >= n && calls[n - 1].body !== undefined && calls[n - 1], `/v1/id answer #${n}`)
const serverCookie = async (context) => (await context.cookies()).find((c) => c.name === COOKIE)

/** Track, flush, and return the anonymousId the tracker holds. */
const trackAs = (page, name) =>
  page.evaluate(async (name) => {
    a.track(name)
    await a.flush()
    return a.user().anonymousId()
  }, name)

test('the server id: nothing before consent, adopted when own storage is lost, expired on withdrawal', async () => {
  const { context, page, calls, pageErrors } = await open(config())

  // (1) Before consent: no request to /v1/id, no cookie; a page view waits in memory.
  await page.evaluate(() => a.track('sid before consent'))
  await sleep(300)
  assert.equal(calls.length, 0, 'no /v1/id request before consent')
  assert.equal(await serverCookie(context), undefined, 'no server cookie before consent')

  // (2) Granting analytics: one call; the HttpOnly cookie is set; the tracker had no id of its
  // own, so the collector's becomes its anonymousId, on the held event too.
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }, { source: 'banner' }))
  const first = await answered(calls, 1)
  assert.deepEqual(first.query, { writeKey: 'pk_demo', analytics: 'granted' })
  assert.equal(first.status, 200)
  const cookie = await until(() => serverCookie(context), 'the server cookie')
  assert.equal(cookie.httpOnly, true)
  assert.equal(cookie.sameSite, 'Lax')
  assert.equal(cookie.domain, 'collect.shop.test')
  assert.equal(cookie.path, '/')
  assert.equal(cookie.secure, false, 'plain http: no Secure')
  const lifetime = cookie.expires - Date.now() / 1000
  assert.ok(lifetime > 300 * DAY && lifetime <= 400 * DAY + 60, `expiry within 400 days (${lifetime / DAY} days)`)
  const id = cookie.value
  assert.equal(first.body.id, id)
  assert.equal(await trackAs(page, 'sid granted'), id, "the tracker adopted the collector's id")
  const before = await env.collector.waitFor((r) => r.length === 2, `event in ('sid before consent', 'sid granted')`)
  assert.deepEqual(before.map((r) => r.anonymous_id), [id, id], 'the stored events carry the server id')
  const consent = await env.collector.waitFor((r) => r.length === 1, `type = 'consent' and anonymous_id = '${id}'`)
  assert.equal(consent.length, 1, 'the consent event carries it too')
  const localAid = storedAnonymousId(await page.evaluate(() => localStorage.getItem('ast_pk_demo_id')))
  assert.equal(localAid, id, 'and the tracker keeps it as its own')

  // Once per page load: more consent changes do not ask again.
  await page.evaluate(() => a.setConsent({ marketing: 'granted' }))
  await sleep(200)
  assert.equal(calls.length, 1, 'asked once per page')

  // (3a) Its identity keys lost (the consent record kept): asked at load, delivery waits for
  // the answer (slowed down here, far past the 50 ms flush interval), so an event tracked the
  // moment the tracker starts already carries the server id.
  // Storage is cleared from a page without the tracker: the tracker saves its session on pagehide.
  await page.goto(env.site.url('www.shop.test', '/blank'))
  await context.clearCookies({ name: /^ast_pk_demo_(?!consent)/ })
  await page.evaluate(() => {
    for (const k of Object.keys(localStorage)) if (k.startsWith('ast_pk_demo_') && k !== 'ast_pk_demo_consent') localStorage.removeItem(k)
  })
  await context.route('**/v1/id?*', async (route) => {
    await sleep(500)
    await route.continue()
  })
  await page.goto(env.site.url('www.shop.test', '/', config()) + '&atload=1')
  const atLoad = await answered(calls, 2)
  await context.unrouteAll()
  assert.equal(atLoad.query.analytics, 'granted')
  assert.equal(atLoad.body.id, id, 'the collector answers with the id in its cookie')
  assert.equal(await trackAs(page, 'sid after load'), id)
  const reloaded = await env.collector.waitFor((r) => r.length === 2, `event in ('sid at load', 'sid after load')`)
  assert.deepEqual(reloaded.map((r) => r.anonymous_id), [id, id], 'events sent right at load carry the re-adopted id')

  // (3b) Everything the tracker wrote lost, consent record included (as when ITP wipes script
  // storage): nothing is asked before consent; after it, the same id comes back.
  await page.goto(env.site.url('www.shop.test', '/blank'))
  await context.clearCookies({ name: /^ast_pk_demo_/ })
  await page.evaluate(() => localStorage.clear())
  assert.deepEqual(
    (await context.cookies()).map((c) => c.name),
    [COOKIE],
    'only the server cookie is left',
  )
  await page.goto(env.site.url('www.shop.test', '/', config()))
  await sleep(300)
  assert.equal(calls.length, 2, 'no /v1/id request before consent on the new page')
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }, { source: 'banner' }))
  assert.equal((await answered(calls, 3)).body.id, id)
  assert.equal(await trackAs(page, 'sid after wipe'), id, 'the same id, from the server cookie')
  const all = await env.collector.waitFor((r) => r.length === 5, `event like 'sid %'`)
  assert.deepEqual([...new Set(all.map((r) => r.anonymous_id))], [id], 'every stored event, before and after the wipe, has one anonymousId')

  // (4) Withdrawing analytics: the tracker asks the collector to expire the cookie it cannot remove.
  await page.evaluate(() => a.setConsent({ analytics: 'denied' }))
  const withdrawn = await answered(calls, 4)
  assert.equal(withdrawn.query.analytics, 'denied')
  assert.deepEqual(withdrawn.body, { id: null })
  await until(async () => !(await serverCookie(context)), 'the server cookie to expire')
  assert.equal(await page.evaluate(() => localStorage.getItem('ast_pk_demo_id')), null)
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('reset() gets a new server id; optOut() expires it; anonymous levels never ask', async () => {
  const { context, page, calls } = await open(config())
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }))
  const id = (await answered(calls, 1)).body.id
  assert.equal(await trackAs(page, 'sid2 before reset'), id)

  // reset(): the old cookie is expired, then (consent still given) a new one is set and adopted.
  await page.evaluate(() => {
    a.reset()
    a.track('sid2 after reset')
  })
  assert.equal((await answered(calls, 2)).query.analytics, 'denied')
  const renewed = (await answered(calls, 3)).body.id
  assert.ok(renewed && renewed !== id, 'a new visitor gets a new server id')
  assert.equal((await serverCookie(context))?.value, renewed)
  assert.equal(await trackAs(page, 'sid2 after reset 2'), renewed)
  const rows = await env.collector.waitFor((r) => r.length === 3, `event like 'sid2 %'`)
  assert.deepEqual(rows.map((r) => r.anonymous_id), [id, renewed, renewed])

  // optOut(): the cookie is expired too.
  await page.evaluate(() => a.optOut())
  assert.equal((await answered(calls, 4)).query.analytics, 'denied')
  await until(async () => !(await serverCookie(context)), 'the server cookie to expire on optOut')
  await context.close()

  // Anonymous level: consent given, but no /v1/id request and no cookie.
  const anon = await open(config({ anonymous: 'server' }))
  await anon.page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.track('sid2 anonymous')
    await a.flush()
  })
  await env.collector.waitFor((r) => r.length === 1, `event = 'sid2 anonymous'`)
  assert.equal(anon.calls.length, 0, 'no /v1/id request in an anonymous level')
  assert.equal(await serverCookie(anon.context), undefined)
  await anon.context.close()
})

test('without the option the tracker never calls /v1/id', async () => {
  const { context, page, calls } = await open(env.config({ endpoint: collect() }))
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.track('sid3 off')
    a.reset()
    await a.flush()
  })
  await env.collector.waitFor((r) => r.length === 1, `event = 'sid3 off'`)
  assert.equal(calls.length, 0)
  assert.equal(await serverCookie(context), undefined)
  await context.close()
})
