// Storage in the browser (docs/architecture.md, "Storage"): strategies, restore, scoping by write key, cookie domain and attributes,
// and storage that is full or disabled.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { deviceState, storedAnonymousId } from './harness/browser.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const ID = 'ast_pk_demo_id'

async function grantAndTrack(page, name) {
  return page.evaluate(async (name) => {
    if (!a.getConsent().decided) a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track(name)
    await a.flush()
    return a.user().anonymousId()
  }, name)
}

test('each storage strategy keeps identifiers exactly where it says', async () => {
  const expected = {
    cookieAndLocalStorage: { cookie: true, localStorage: true, sessionStorage: false, survivesReload: true },
    cookie: { cookie: true, localStorage: false, sessionStorage: false, survivesReload: true },
    localStorage: { cookie: false, localStorage: true, sessionStorage: false, survivesReload: true },
    sessionStorage: { cookie: false, localStorage: false, sessionStorage: true, survivesReload: true },
    memory: { cookie: false, localStorage: false, sessionStorage: false, survivesReload: false },
  }
  for (const [storage, where] of Object.entries(expected)) {
    const { page, context } = await env.open({ init: env.config({ storage }) })
    const id = await grantAndTrack(page, `st ${storage}`)
    const s = await deviceState(page)
    assert.equal(s.cookies.some((c) => c.name === ID && storedAnonymousId(c.value) === id), where.cookie, `${storage}: cookie`)
    assert.equal(storedAnonymousId(s.localStorage[ID]) === id, where.localStorage, `${storage}: localStorage`)
    assert.equal(storedAnonymousId(s.sessionStorage[ID]) === id, where.sessionStorage, `${storage}: sessionStorage`)
    if (storage === 'memory') assert.deepEqual([s.cookies, s.localStorage, s.sessionStorage], [[], {}, {}], 'memory writes nothing at all')
    await page.reload()
    const again = await page.evaluate(() => (a.getConsent().decided ? a.user().anonymousId() : null))
    assert.equal(again === id, where.survivesReload, `${storage}: same anonymousId after reload`)
    const [row] = await env.collector.waitFor((r) => r.length === 1, `event = 'st ${storage}'`)
    assert.equal(row.anonymous_id, id)
    await context.close()
  }
})

test('a lost cookie is restored from localStorage, and a lost localStorage from the cookie', async () => {
  const { page, context } = await env.open({ init: env.config() })
  const id = await grantAndTrack(page, 'st restore')
  await context.clearCookies()
  await page.reload()
  assert.equal(await page.evaluate(() => a.user().anonymousId()), id)
  assert.equal(storedAnonymousId((await context.cookies()).find((c) => c.name === ID)?.value), id, 'cookie restored')
  await page.evaluate(() => localStorage.clear())
  await page.reload()
  assert.equal(await page.evaluate(() => a.user().anonymousId()), id)
  assert.equal(storedAnonymousId(await page.evaluate((k) => localStorage.getItem(k), ID)), id, 'localStorage restored')
  await context.close()
})

test('two trackers on one page do not collide: keys are scoped by write key', async () => {
  const { page, context } = await env.open({ init: env.config() })
  const ids = await page.evaluate(async (cfg) => {
    const other = Assent.init({ ...cfg, writeKey: 'pk_other' })
    a.setConsent({ analytics: 'granted' })
    other.setConsent({ analytics: 'denied' })
    a.track('st two trackers')
    other.track('st two trackers (other)')
    await Promise.all([a.flush(), other.flush()])
    return { a: a.user().anonymousId(), other: other.user().anonymousId(), otherConsent: other.getConsent().state.analytics }
  }, env.config())
  const s = await deviceState(page)
  assert.equal(storedAnonymousId(s.localStorage.ast_pk_demo_id), ids.a)
  assert.equal(s.localStorage.ast_pk_other_id, undefined, 'the refusing project stores no id')
  assert.equal(JSON.parse(s.localStorage.ast_pk_other_consent).state.analytics, 'denied')
  assert.equal(JSON.parse(s.localStorage.ast_pk_demo_consent).state.analytics, 'granted')
  assert.equal(ids.otherConsent, 'denied')
  await context.close()
})

test("domain 'auto' picks the widest accepted domain, removes its test cookie, and shares the id across subdomains", async () => {
  const { page, context } = await env.open({ host: 'www.shop.test', init: env.config() })
  const id = await grantAndTrack(page, 'st www')
  const cookie = (await context.cookies()).find((c) => c.name === ID)
  assert.equal(cookie.domain, '.shop.test')
  const writes = await page.evaluate(() => window.__writes.filter((w) => w.kind === 'cookie').map((w) => w.value))
  assert.ok(writes.some((w) => w.startsWith('ast_pk_demo_probe=1')), 'a test cookie was tried')
  assert.ok(!(await context.cookies()).some((c) => c.name.includes('probe')), 'and removed')

  await page.goto(env.site.url('blog.shop.test', '/', env.config()))
  assert.equal(await page.evaluate(() => a.user().anonymousId()), id, 'blog.shop.test sees the same visitor')
  await page.evaluate(async () => {
    a.track('st blog')
    await a.flush()
  })
  const rows = await env.collector.waitFor((r) => r.length === 2, `event in ('st www', 'st blog')`)
  assert.deepEqual(new Set(rows.map((r) => r.anonymous_id)), new Set([id]))
  assert.deepEqual(new Set(rows.map((r) => new URL(r.payload.context.page.url).hostname)), new Set(['www.shop.test', 'blog.shop.test']))
  await context.close()
})

test('cookie attributes follow the configuration; max age is capped at 400 days', async () => {
  const { page, context } = await env.open({ host: 'www.shop.test', init: env.config({ cookie: { domain: '', maxAgeDays: 1000, sameSite: 'Strict' } }) })
  await grantAndTrack(page, 'st attrs')
  const c = (await context.cookies()).find((c) => c.name === ID)
  assert.equal(c.domain, 'www.shop.test', 'empty domain: host-only')
  assert.equal(c.sameSite, 'Strict')
  assert.equal(c.secure, false, 'secure is automatic: off on http')
  assert.equal(c.path, '/')
  const days = (c.expires * 1000 - Date.now()) / 86_400_000
  assert.ok(days > 399 && days <= 400.01, `expires in ${days} days`)
  await context.close()

  const d = await env.open({ init: env.config() })
  await grantAndTrack(d.page, 'st default attrs')
  const dc = (await d.context.cookies()).find((c) => c.name === ID)
  assert.equal(dc.sameSite, 'Lax')
  const ddays = (dc.expires * 1000 - Date.now()) / 86_400_000
  assert.ok(ddays > 364 && ddays <= 365.01, `default 365 days, got ${ddays}`)
  await d.context.close()
})

test('a full storage (QuotaExceededError) or disabled storage never throws into the page', async () => {
  const full = () => {
    Storage.prototype.setItem = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    }
  }
  const disabled = () => {
    for (const k of ['localStorage', 'sessionStorage'])
      Object.defineProperty(window, k, {
        get() {
          throw new DOMException('Access is denied for this document.', 'SecurityError')
        },
      })
  }
  for (const [name, script] of [
    ['full', full],
    ['disabled', disabled],
  ]) {
    const { page, context, pageErrors } = await env.open({ init: env.config(), initScripts: [script] })
    const result = await page.evaluate(async (name) => {
      try {
        a.setConsent({ analytics: 'granted' })
        for (let i = 0; i < 5; i++) a.track(`st storage ${name}`, { i, pad: 'x'.repeat(1000) })
        a.identify('user-' + name, { big: 'y'.repeat(5000) })
        await a.flush()
        return 'ok'
      } catch (e) {
        return 'threw: ' + e
      }
    }, name)
    assert.equal(result, 'ok')
    await sleep(100)
    assert.deepEqual(pageErrors, [])
    await env.collector.waitFor((r) => r.length === 5, `event = 'st storage ${name}'`)
    await context.close()
  }
})

test('a device left by the format 1 tracker (no version stamp) is migrated to format 2: ids, session, queue and consent kept', async () => {
  // What the tracker stored until 2026-11-30, captured from it (e2e/fixtures/device-format-1.json):
  // one key per identifier, the queue as a bare array, nothing stamped. Times are moved to now so
  // the consent and the session are still current.
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/device-format-1.json', import.meta.url), 'utf8'))
  const now = Date.now()
  const record = JSON.parse(fixture.localStorage.ast_pk_demo_consent)
  record.timestamp = now - 60_000
  const session = { id: now - 120_000, last: now - 60_000, seq: 4 }
  const local = { ...fixture.localStorage, ast_pk_demo_consent: JSON.stringify(record), ast_pk_demo_session: JSON.stringify(session) }
  const cookies = { ...fixture.cookies, ast_pk_demo_consent: encodeURIComponent(JSON.stringify(record)), ast_pk_demo_session: encodeURIComponent(JSON.stringify(session)) }
  const queued = JSON.parse(local.ast_pk_demo_queue).map((i) => i.event.messageId)
  const aid = fixture.localStorage.ast_pk_demo_aid

  const context = await env.browser.newContext()
  await context.addCookies(Object.entries(cookies).map(([name, value]) => ({ name, value, domain: '.shop.test', path: '/' })))
  const page = await context.newPage()
  await page.goto(env.site.url('www.shop.test', '/blank'))
  await page.evaluate((local) => Object.entries(local).forEach(([k, v]) => localStorage.setItem(k, v)), local)

  await page.goto(env.site.url('www.shop.test', '/', env.config()))
  const seen = await page.evaluate(async () => {
    a.track('after migration')
    await a.flush()
    return {
      anonymousId: a.user().anonymousId(),
      userId: a.user().id(),
      traits: a.user().traits(),
      groupId: a.group().id(),
      groupTraits: a.group().traits(),
      consent: a.getConsent(),
    }
  })
  assert.deepEqual(
    { ...seen, consent: undefined },
    { anonymousId: aid, userId: 'user-format-1', traits: { plan: 'pro' }, groupId: 'group-format-1', groupTraits: { seats: 5 }, consent: undefined },
  )
  assert.equal(seen.consent.id, record.id)
  assert.equal(seen.consent.decided, true)
  assert.deepEqual([seen.consent.state.analytics, seen.consent.state.marketing], ['granted', 'denied'])

  // The queue of format 1 was delivered, and the new event continues the session and its sequence.
  const rows = await env.collector.waitFor((r) => r.length === queued.length, `message_id in (${queued.map((id) => `'${id}'`).join(',')})`)
  assert.ok(rows.every((r) => r.anonymous_id === aid))
  const [after] = await env.collector.waitFor((r) => r.length === 1, `event = 'after migration'`)
  assert.deepEqual([after.anonymous_id, after.user_id, after.session_id, after.sequence], [aid, 'user-format-1', session.id, 5])

  // The device now holds format 2: one stamped identity record; the format 1 keys are gone.
  await page.waitForTimeout(50)
  const s = await deviceState(page)
  const names = [...s.cookies.map((c) => c.name), ...Object.keys(s.localStorage)]
  for (const old of ['ast_pk_demo_aid', 'ast_pk_demo_uid', 'ast_pk_demo_gid', 'ast_pk_demo_session']) assert.ok(!names.includes(old), `${old} removed`)
  const stored = JSON.parse(s.localStorage.ast_pk_demo_id)
  assert.deepEqual({ ...stored, session: undefined }, { v: 2, aid, uid: 'user-format-1', gid: 'group-format-1', session: undefined })
  assert.equal(stored.session.id, session.id)
  assert.equal(JSON.parse(decodeURIComponent(s.cookies.find((c) => c.name === 'ast_pk_demo_id').value)).aid, aid)
  // The consent record of format 1 is read as it is and stamped at the next choice.
  await page.evaluate(() => a.setConsent({ functional: 'granted' }, { source: 'banner' }))
  assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('ast_pk_demo_consent'))).v, 2)
  await context.close()
})

test("sameSite 'None' always sets Secure, or the browser would refuse the cookie", async () => {
  // http://localhost is a secure context, where Chromium keeps a Secure cookie written by script.
  const init = env.config({ cookie: { sameSite: 'None', secure: false } })
  const { page, context } = await env.open({ host: 'localhost', init })
  await grantAndTrack(page, 'st samesite none')
  const c = (await context.cookies()).find((c) => c.name === ID)
  assert.ok(c, 'the cookie was kept')
  assert.deepEqual([c.sameSite, c.secure], ['None', true])
  const writes = await page.evaluate(() => window.__writes.filter((w) => w.kind === 'cookie' && w.value.startsWith('ast_pk_demo_id=') && !w.value.includes('max-age=0')).map((w) => w.value))
  assert.ok(writes.length && writes.every((w) => /; samesite=None; secure$/.test(w)), writes.join('\n'))
  await context.close()
})
