// The hard rules of docs/architecture.md, each in real Chromium against the real collector and its
// SQLite file.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deviceState } from './harness/browser.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const CONSENT_KEY = 'ast_pk_demo_consent'
const MARKER_KEY = 'ast_pk_demo_optout'

/** Names of every cookie / storage key the tracker left, across all stores. */
async function keysOnDevice(page) {
  const s = await deviceState(page)
  return {
    cookies: s.cookies.map((c) => c.name).sort(),
    localStorage: Object.keys(s.localStorage).sort(),
    sessionStorage: Object.keys(s.sessionStorage).sort(),
    indexedDB: s.indexedDB,
  }
}

test('nothing before consent: nothing is written to the device before consent, whatever the pending behaviour', async () => {
  for (const whilePending of ['queue', 'anonymous', 'drop']) {
    const init = env.config({ consent: { whilePending }, plugins: [['crossDomain'], ['migrateFrom', ['segment', 'amplitude', 'snowplow', 'posthog']]] })
    const { page, context, batches } = await env.open({ init })
    await page.evaluate(async () => {
      a.page('Home')
      a.track('r1 viewed', { sku: 'A-1' })
      a.identify('user-r1', { plan: 'pro' })
      a.group('acme', { size: 3 })
      a.user().anonymousId()
      plugins.crossDomain.decorateUrl('https://other.test/')
      await a.flush()
    })
    await sleep(300)
    assert.deepEqual(await page.evaluate(() => window.__writes), [], `${whilePending}: no storage write at all, not even one later undone`)
    assert.deepEqual(await keysOnDevice(page), { cookies: [], localStorage: [], sessionStorage: [], indexedDB: [] })
    if (whilePending === 'anonymous') {
      assert.ok(batches.length > 0, 'anonymous fallback sends')
      for (const b of batches)
        for (const e of b.events) {
          assert.equal(e.anonymousId, undefined)
          assert.equal(e.userId, undefined)
          assert.equal(e.sessionId, undefined)
          assert.equal(e.context.consent.id, undefined, 'no stable consent id on anonymous events')
        }
    } else assert.equal(batches.length, 0, `${whilePending}: nothing is sent while pending`)

    // Refusing writes exactly the visitor's own choice (necessary) and nothing else.
    await page.evaluate(() => a.setConsent({ analytics: 'denied' }, { source: 'banner' }))
    const keys = await keysOnDevice(page)
    assert.deepEqual(keys.cookies, [CONSENT_KEY])
    assert.deepEqual(keys.localStorage, [CONSENT_KEY])
    const written = await page.evaluate(() => window.__writes.map((w) => w.key || w.value.split('=')[0]))
    assert.ok(written.every((k) => k === CONSENT_KEY || k === 'ast_pk_demo_probe'), 'only the consent record (and the removed domain probe): ' + written)

    // Granting is what allows identifiers on the device.
    await page.evaluate(() => a.setConsent({ analytics: 'granted' }, { source: 'banner' }))
    await page.evaluate(() => a.track('after grant'))
    await sleep(50)
    assert.ok((await keysOnDevice(page)).cookies.includes('ast_pk_demo_id'), 'the anonymousId is stored once consent allows it')
    await context.close()
  }
})

test('opt-out: optOut stops every request but one, purges everything but the marker, and survives clear, reset and reload', async () => {
  const init = env.config({ delivery: { flushIntervalMs: 60_000 } })
  const { page, context, batches } = await env.open({ init })
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted', marketing: 'granted' }, { source: 'banner' })
    a.identify('user-r2', { email: 'r2@example.test' })
    a.track('r2 sent before opt-out')
    await a.flush()
    a.track('r2 queued at opt-out')
  })
  const before = await keysOnDevice(page)
  assert.ok(before.cookies.includes('ast_pk_demo_id') && before.localStorage.includes('ast_pk_demo_queue'), 'identifiers and queue were stored')
  const anonymousId = await page.evaluate(() => a.user().anonymousId())
  const consentId = await page.evaluate(() => a.getConsent().id)
  const sentBefore = batches.length

  await page.evaluate(() => a.optOut())
  await sleep(300)
  assert.equal(batches.length, sentBefore + 1, 'exactly one request after opting out')
  const final = batches.at(-1)
  assert.ok(final.events.every((e) => e.type === 'consent'), 'the final request carries consent events only')
  const e = final.events.at(-1)
  assert.equal(e.properties.optOut, true)
  assert.equal(e.context.consent.id, consentId, 'the withdrawal is recorded by consent id')
  for (const f of ['anonymousId', 'userId', 'groupId', 'sessionId', 'sequence', 'traits']) assert.equal(e[f], undefined, `no ${f}`)
  assert.equal(final.headers['x-assent-anonymous'], '1')

  const markerOnly = { cookies: [MARKER_KEY], localStorage: [MARKER_KEY], sessionStorage: [], indexedDB: [] }
  assert.deepEqual(await keysOnDevice(page), markerOnly)

  await page.evaluate(async () => {
    a.track('r2 after opt-out')
    a.identify('user-r2-again')
    a.setConsent({ analytics: 'granted' })
    a.clearUserData()
    a.reset()
    await a.flush()
  })
  await sleep(300)
  assert.equal(batches.length, sentBefore + 1, 'no request after opting out')
  assert.deepEqual(await keysOnDevice(page), markerOnly, 'clearUserData and reset keep the marker')
  assert.equal(await page.evaluate(() => a.isOptedOut()), true)

  await page.reload()
  await page.evaluate(async () => {
    a.page('Reloaded')
    a.track('r2 after reload')
    await a.flush()
  })
  await sleep(300)
  assert.equal(await page.evaluate(() => a.isOptedOut()), true, 'the opt-out survives a reload')
  assert.equal(batches.length, sentBefore + 1, 'no request after the reload')
  assert.deepEqual(await keysOnDevice(page), markerOnly)

  const stored = await env.collector.waitFor((rows) => rows.some((r) => r.type === 'consent' && r.payload.properties?.optOut), `payload like '%${consentId}%'`)
  const names = env.collector.events(`anonymous_id = '${anonymousId}' or user_id like 'user-r2%'`).map((r) => r.event)
  assert.ok(names.includes('r2 sent before opt-out'))
  for (const n of ['r2 queued at opt-out', 'r2 after opt-out', 'r2 after reload']) assert.ok(!names.includes(n), `${n} never reaches the store`)
  assert.equal(env.collector.events(`event like 'r2 %' and event != 'r2 sent before opt-out'`).length, 0)
  assert.ok(stored.length >= 1)
  await context.close()
})

test('opt-out: Do-Not-Track, when respected, means opted out: no request, no write', async () => {
  const { page, context, batches } = await env.open({
    init: env.config({ consent: { respectDoNotTrack: true, mode: 'opt-out' } }),
    initScripts: [() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })],
  })
  await page.evaluate(async () => {
    a.track('r2 dnt')
    a.setConsent({ analytics: 'granted' })
    await a.flush()
  })
  await sleep(300)
  assert.equal(await page.evaluate(() => a.isOptedOut()), true)
  assert.equal(batches.length, 0)
  assert.deepEqual(await page.evaluate(() => window.__writes), [])
  await context.close()
})

test('withdrawal: withdrawing a category purges the queued events captured under it', async () => {
  const init = env.config({ delivery: { flushIntervalMs: 60_000 } })
  const { page, context, batches } = await env.open({ path: '/landing?gclid=CLICK123&utm_source=ads', init })
  await page.evaluate(() => {
    a.setConsent({ analytics: 'granted', marketing: 'granted' }, { source: 'banner' })
    a.track('r3 under marketing')
  })
  // The queued event carries the click id, so it was captured under `marketing`.
  assert.match(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue')), /CLICK123/)
  await page.evaluate(async () => {
    a.setConsent({ marketing: 'denied' })
    a.track('r3 after marketing withdrawn')
    a.track('r3 under analytics')
    a.setConsent({ analytics: 'denied' })
    await a.flush()
  })
  const events = batches.flatMap((b) => b.events)
  const names = events.map((e) => e.event).filter(Boolean)
  assert.deepEqual(names, [], 'every track event was captured under a consent withdrawn before it could be sent')
  assert.equal(events.filter((e) => e.type === 'consent').length, 3, 'the consent events themselves stay: they are the proof')
  assert.ok(!JSON.stringify(events).includes('CLICK123'), 'no click id left the page')
  for (const e of events) assert.equal(e.anonymousId, undefined, 'consent events lost the identifiers of the withdrawn consent')
  assert.equal(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue')), null, 'the durable queue left the device')

  // Once withdrawn, later events follow onDeny (drop by default): nothing is sent.
  await page.evaluate(async () => {
    a.track('r3 after everything withdrawn')
    await a.flush()
  })
  assert.equal(env.collector.events(`event like 'r3 %'`).length, 0)
  await context.close()
})

test('withdrawal: without a withdrawal the same events do arrive (the purge test can fail)', async () => {
  const { page, context } = await env.open({ path: '/landing?gclid=CLICK456', init: env.config({ delivery: { flushIntervalMs: 60_000 } }) })
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted', marketing: 'granted' }, { source: 'banner' })
    a.track('r3 control')
    await a.flush()
  })
  const [row] = await env.collector.waitFor((rows) => rows.length === 1, `event = 'r3 control'`)
  assert.match(row.payload.context.page.url, /gclid=CLICK456/, 'with marketing granted the click id is kept')
  await context.close()
})

test('anonymous and identified events never share a batch', async () => {
  const init = env.config({ consent: { whilePending: 'anonymous' }, delivery: { flushIntervalMs: 60_000 } })
  const { page, context, batches } = await env.open({ init })
  await page.evaluate(async () => {
    a.track('r4 anonymous 1')
    a.track('r4 anonymous 2')
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track('r4 identified 1')
    a.enableAnonymous('full')
    a.track('r4 full')
    a.disableAnonymous()
    a.track('r4 identified 2')
    await a.flush()
  })
  assert.ok(batches.length >= 2)
  for (const b of batches) {
    const kinds = new Set(b.events.map((e) => String(e.context.anonymous)))
    assert.equal(kinds.size, 1, 'one anonymity per batch: ' + [...kinds])
    const identified = b.events[0].context.anonymous === false
    for (const e of b.events) assert.equal(Boolean(e.anonymousId), identified)
    assert.equal(b.headers['x-assent-anonymous'], b.events[0].context.anonymous === 'server' ? '1' : undefined)
  }
  const rows = await env.collector.waitFor((r) => r.length === 5, `event like 'r4 %'`)
  assert.deepEqual(rows.filter((r) => r.anonymous_id).map((r) => r.event).sort(), ['r4 identified 1', 'r4 identified 2'])
  await context.close()
})

test('Global Privacy Control denies marketing by default, or opts out when the project says so', async () => {
  const gpc = () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })
  const { page, context } = await env.open({ init: env.config({ plugins: [['crossDomain']] }), initScripts: [gpc] })
  const state = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track('r5 gpc')
    await a.flush()
    return { consent: a.getConsent(), link: plugins.crossDomain.decorateUrl('https://other.test/x') }
  })
  assert.equal(state.consent.state.marketing, 'denied')
  assert.equal(state.link, 'https://other.test/x', 'no cross-domain id without marketing')
  const [row] = await env.collector.waitFor((r) => r.length === 1, `event = 'r5 gpc'`)
  assert.equal(row.payload.context.consent.state.marketing, 'denied')
  await context.close()

  // Control: the same page without GPC leaves marketing pending.
  const control = await env.open({ init: env.config() })
  assert.equal(await control.page.evaluate(() => a.getConsent().state.marketing), 'pending')
  await control.context.close()

  const strict = await env.open({ init: env.config({ consent: { respectGPC: 'optOut', mode: 'opt-out' } }), initScripts: [gpc] })
  await strict.page.evaluate(async () => {
    a.track('r5 gpc opt-out')
    await a.flush()
  })
  await sleep(200)
  assert.equal(await strict.page.evaluate(() => a.isOptedOut()), true)
  assert.equal(strict.batches.length, 0)
  await strict.context.close()
})

test('Global Privacy Control overrides an earlier grant of marketing — recorded in the ledger, queued click ids purged, no later grant lifts it', async () => {
  const gpc = () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })
  // Without the signal the visitor grants marketing; an event with a click id waits in the durable
  // queue (this first visit cannot reach the collector: nothing listens on port 9, not even when
  // the page is closed and the tracker tries once more).
  const unreachable = { endpoint: 'http://127.0.0.1:9', delivery: { flushIntervalMs: 60_000 } }
  const first = await env.open({ path: '/landing?gclid=CLICK789', init: env.config(unreachable) })
  const consentId = await first.page.evaluate(() => {
    a.setConsent({ analytics: 'granted', marketing: 'granted' }, { source: 'banner' })
    a.track('r5 queued with click id')
    return a.getConsent().id
  })
  await first.page.waitForTimeout(50)
  const storage = await first.context.storageState()
  await first.context.close()

  // The same visitor comes back with GPC on.
  const back = await env.open({ path: '/shop?gclid=CLICK790', init: env.config(), initScripts: [gpc], context: { storageState: storage } })
  const seen = await back.page.evaluate(async () => {
    const atLoad = a.getConsent()
    a.setConsent({ marketing: 'granted' }, { source: 'banner' })
    a.track('r5 after gpc')
    await a.flush()
    return { atLoad, later: a.getConsent() }
  })
  assert.equal(seen.atLoad.state.marketing, 'denied')
  assert.equal(seen.atLoad.source, 'gpc')
  assert.equal(seen.atLoad.state.analytics, 'granted', 'GPC is about sale and sharing, not analytics')
  assert.equal(seen.later.state.marketing, 'denied', 'a later grant does not lift the signal')
  const [row] = await env.collector.waitFor((r) => r.length === 1, `event = 'r5 after gpc'`)
  await env.collector.waitFor((r) => r.length === 3, `type = 'consent' and payload like '%${consentId}%'`)
  assert.ok(!row.payload.context.page.url.includes('gclid'), 'no click id kept')
  assert.ok(row.anonymous_id)
  await back.page.waitForTimeout(200)
  assert.equal(env.collector.events(`event = 'r5 queued with click id'`).length, 0, 'the event captured under marketing was purged')
  const wire = back.batches.flatMap((b) => b.events)
  assert.ok(!JSON.stringify(wire.map((e) => e.context.page)).includes('CLICK789'))
  const ledger = env.collector
    .query(`select entry from consent_ledger where consent_id = '${consentId}' order by id`)
    .map((r) => JSON.parse(r.entry))
    .map((e) => [e.source, JSON.parse(e.states).marketing])
  assert.deepEqual(ledger, [
    ['banner', 'granted'],
    ['gpc', 'denied'],
    ['banner', 'denied'],
  ])
  await back.context.close()
})

test('on record: every consent change is a consent event in the ledger, with who, what, when, revision and source', async () => {
  const { page, context } = await env.open({ init: env.config({ consent: { revision: '2026-11' } }) })
  await page.addScriptTag({ url: '/assent-consent-adapters.min.js' })
  const consentId = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted', marketing: 'denied' }, { source: 'banner' })
    a.setConsent({ marketing: 'granted' })
    Assent.adapters.setGoogleConsent(a, { ad_storage: 'denied' })
    a.setConsent({ analytics: 'denied' }, { source: 'banner' })
    a.optOut()
    return a.getConsent().id
  })
  const rows = await env.collector.waitFor((r) => r.length === 5, `type = 'consent' and payload like '%${consentId}%'`)
  const seen = rows.map((r) => r.payload.context.consent).sort((x, y) => x.timestamp - y.timestamp)
  assert.deepEqual(
    seen.map((c) => [c.source, c.state.analytics, c.state.marketing]),
    [
      ['banner', 'granted', 'denied'],
      ['api', 'granted', 'granted'],
      ['google', 'granted', 'denied'],
      ['banner', 'denied', 'denied'],
      ['api', 'denied', 'denied'],
    ],
  )
  for (const c of seen) {
    assert.equal(c.id, consentId)
    assert.equal(c.revision, '2026-11')
    assert.equal(typeof c.timestamp, 'number')
  }
  await context.close()
})

test('an IAB TCF v2.2 CMP feeds the same consent state (adapter add-on)', async () => {
  // A minimal CMP on the page, speaking the __tcfapi protocol as real CMPs do.
  const cmp = () => {
    const listeners = []
    window.__tcfapi = (command, version, callback) => {
      if (command === 'addEventListener') listeners.push(callback)
    }
    window.cmpDecides = (consents) => listeners.forEach((l) => l({ gdprApplies: true, eventStatus: 'useractioncomplete', purpose: { consents } }, true))
  }
  const { page, context } = await env.open({ init: env.config(), initScripts: [cmp] })
  await page.addScriptTag({ url: '/assent-consent-adapters.min.js' })
  const state = await page.evaluate(async () => {
    Assent.adapters.followTcf(a)
    cmpDecides({ 1: true, 8: true, 9: true })
    await a.flush()
    return a.getConsent()
  })
  assert.equal(state.source, 'tcf')
  assert.deepEqual([state.state.analytics, state.state.marketing, state.state.replay], ['granted', 'denied', 'pending'])
  const [row] = await env.collector.waitFor((r) => r.length === 1, `type = 'consent' and payload like '%${state.id}%'`)
  assert.equal(row.payload.context.consent.source, 'tcf')
  await context.close()
})
