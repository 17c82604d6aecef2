// Adopting the identifiers other trackers left, a plugin (assent-migration.min.js): a site that
// switches to Assent keeps its returning visitors and its logged-in users — only once the visitor
// allows analytics, and only when Assent has no id of its own yet. Segment's and Amplitude's own
// SDKs (from npm) write their state in this browser; PostHog's, Snowplow's and Amplitude's older
// formats are written as those trackers document them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deviceState } from './harness/browser.mjs'
import { setup } from './harness/fixture.mjs'
import { peerRoutes } from './harness/peer-trackers.mjs'

const env = setup({ routes: { ...peerRoutes('segment'), ...peerRoutes('amplitude') } })
const migrating = (peers, over = {}) => env.config({ ...over, plugins: [['migrateFrom', peers]] })
const base64 = (text) => Buffer.from(text).toString('base64')

/** Opens the Assent page in `context`, checks nothing is adopted before consent, then grants it and tracks. */
async function adoptedAfterConsent(context, peers, name) {
  const page = await context.newPage()
  await page.goto(env.site.url('www.shop.test', '/', migrating(peers)))
  const before = await page.evaluate(() => ({ anonymousId: a.user().anonymousId(), userId: a.user().id() }))
  assert.deepEqual(before, { anonymousId: undefined, userId: undefined }, `${name}: nothing read before consent`)
  const after = await page.evaluate(async (name) => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track(name)
    await a.flush()
    return { anonymousId: a.user().anonymousId(), userId: a.user().id() }
  }, name)
  const [row] = await env.collector.waitFor((r) => r.length === 1, `event = '${name}'`)
  return { page, after, row }
}

test("Segment's analytics.js: its anonymousId and userId are adopted", async () => {
  const context = await env.browser.newContext()
  const seg = await context.newPage()
  await seg.goto(env.site.url('www.shop.test', '/peer/segment'))
  const left = await seg.evaluate(async (cdnURL) => {
    const [analytics] = await AnalyticsBrowser.load({ writeKey: 'pk_peer', cdnURL })
    await analytics.identify('seg-user-9', { plan: 'pro' })
    return { anonymousId: analytics.user().anonymousId(), userId: analytics.user().id() }
  }, env.collector.url)
  assert.equal(left.userId, 'seg-user-9')

  const { after, row } = await adoptedAfterConsent(context, ['segment'], 'mig segment')
  assert.deepEqual(after, left)
  assert.equal(row.anonymous_id, left.anonymousId)
  assert.equal(row.user_id, 'seg-user-9')
  await context.close()
})

test("Amplitude's Browser SDK 2: its deviceId and userId are adopted", async () => {
  const context = await env.browser.newContext()
  const amp = await context.newPage()
  await amp.goto(env.site.url('www.shop.test', '/peer/amplitude'))
  const left = await amp.evaluate(async (collector) => {
    await amplitude.init('pk_peer', { serverUrl: collector + '/2/httpapi', remoteConfig: { serverUrl: collector + '/config' } }).promise
    amplitude.setUserId('amp-user-9')
    await amplitude.flush().promise
    return { anonymousId: amplitude.getDeviceId(), userId: amplitude.getUserId() }
  }, env.collector.url)

  const { after, row } = await adoptedAfterConsent(context, ['amplitude'], 'mig amplitude 2')
  assert.deepEqual(after, left)
  assert.equal(row.user_id, 'amp-user-9')
  await context.close()
})

test("PostHog's ph_<key>_posthog, Amplitude's legacy amplitude_id_<key> and Snowplow's _sp_id are adopted", async () => {
  const fixtures = [
    {
      peer: 'posthog',
      cookie: {
        name: 'ph_phc_Abc123_posthog',
        value: encodeURIComponent(JSON.stringify({ distinct_id: 'ph-user@example.com', $device_id: 'ph-device-9', $user_state: 'identified' })),
      },
      expect: { anonymousId: 'ph-device-9', userId: 'ph-user@example.com' },
    },
    {
      peer: 'posthog',
      local: { key: 'ph_phc_Abc123_posthog', value: JSON.stringify({ distinct_id: 'ph-anon-9', $user_state: 'anonymous' }) },
      expect: { anonymousId: 'ph-anon-9', userId: undefined },
    },
    {
      peer: 'amplitude',
      cookie: { name: 'amplitude_id_0123456789abcdef0123456789abcdef', value: base64(JSON.stringify({ deviceId: 'amp-legacy-9', userId: 'amp-legacy-user', optOut: false })) },
      expect: { anonymousId: 'amp-legacy-9', userId: 'amp-legacy-user' },
    },
    {
      peer: 'amplitude',
      cookie: { name: 'amp_a1b2c3', value: `amp-dotted-9.${base64('amp-dotted-user')}..1700000000000.1700000000500.3.1.3` },
      expect: { anonymousId: 'amp-dotted-9', userId: 'amp-dotted-user' },
    },
    {
      peer: 'snowplow',
      cookie: { name: '_sp_id.4f2a', value: 'sp-domain-user-9.1700000000.4.1700000500.1700000400' },
      expect: { anonymousId: 'sp-domain-user-9', userId: undefined },
    },
  ]
  for (const [i, f] of fixtures.entries()) {
    const context = await env.browser.newContext()
    if (f.cookie) await context.addCookies([{ ...f.cookie, domain: 'www.shop.test', path: '/' }])
    if (f.local) await context.addInitScript((l) => localStorage.setItem(l.key, l.value), f.local)
    const { after, row } = await adoptedAfterConsent(context, [f.peer], `mig fixture ${i}`)
    assert.deepEqual(after, f.expect, `${f.peer} #${i}`)
    assert.equal(row.anonymous_id, f.expect.anonymousId)
    assert.equal(row.user_id, f.expect.userId ?? null)
    await context.close()
  }
})

test('without analytics consent nothing is adopted, read into events or written', async () => {
  const context = await env.browser.newContext()
  await context.addCookies([{ name: 'ajs_user_id', value: '%22seg-refused%22', domain: 'www.shop.test', path: '/' }])
  const page = await context.newPage()
  const batches = []
  page.on('request', (r) => r.url().startsWith(env.collector.url) && r.method() === 'POST' && batches.push(r.postData()))
  await page.goto(env.site.url('www.shop.test', '/', migrating(['segment'], { consent: { onDeny: 'anonymous' } })))
  const ids = await page.evaluate(async () => {
    a.setConsent({ analytics: 'denied' }, { source: 'banner' })
    a.track('mig refused')
    await a.flush()
    return { anonymousId: a.user().anonymousId(), userId: a.user().id() }
  })
  assert.deepEqual(ids, { anonymousId: undefined, userId: undefined })
  await env.collector.waitFor((r) => r.length === 1, `event = 'mig refused'`)
  assert.ok(batches.length > 0 && batches.every((b) => !b.includes('seg-refused')), 'the peer id never left the page')
  const s = await deviceState(page)
  assert.deepEqual(Object.keys(s.localStorage), ['ast_pk_demo_consent'])
  await context.close()
})

test('an id of its own wins: the peers are read only the first time', async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.goto(env.site.url('www.shop.test', '/', env.config()))
  const own = await page.evaluate(() => (a.setConsent({ analytics: 'granted' }), a.user().anonymousId()))
  await context.addCookies([{ name: '_sp_id.4f2a', value: 'sp-late.1700000000.4', domain: 'www.shop.test', path: '/' }])
  await page.goto(env.site.url('www.shop.test', '/', migrating(['snowplow'])))
  assert.equal(await page.evaluate(() => a.user().anonymousId()), own)
  await context.close()
})
