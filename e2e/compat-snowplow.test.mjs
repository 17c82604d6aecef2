// Snowplow's browser tracker (@snowplow/browser-tracker v4 from npm), unchanged, in real
// Chromium on another origin, pointed at `assent serve`: POST and GET events land in the
// project chosen by the app id, with their ids; server anonymisation stores no identifier and
// no address; a retry after a lost answer adds nothing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { peerRoutes, recordEscapes } from './harness/peer-trackers.mjs'

const env = setup({ routes: peerRoutes('snowplow') })

async function openPage() {
  const context = await env.browser.newContext()
  const escapes = recordEscapes(context, [`www.shop.test:${env.site.port}`, '127.0.0.1'])
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e))
  const wire = []
  context.on('request', (req) => req.url().startsWith('http://127.0.0.1:') && req.method() !== 'OPTIONS' && wire.push({ url: req.url(), method: req.method(), headers: req.headers() }))
  await page.goto(env.site.url('www.shop.test', '/peer/snowplow'))
  return { context, page, escapes, pageErrors, wire }
}

const inNamespace = (ns) => `json_extract(payload, '$.context.snowplow.namespace') = '${ns}'`

/** Starts a tracker whose successful payloads are kept in window.sent[namespace]. */
const START = ({ ns, endpoint, config }) => {
  window.sent = window.sent || {}
  window.sent[ns] = []
  snowplow.newTracker(ns, endpoint, {
    appId: 'shop-web',
    ...config,
    onRequestSuccess: (payloads) => window.sent[ns].push(...payloads),
  })
}

test('page views, structured and self-describing events land with their ids, by POST and GET', async () => {
  const { context, page, escapes, pageErrors, wire } = await openPage()
  for (const [ns, eventMethod] of [
    ['sp-post', 'post'],
    ['sp-get', 'get'],
  ]) {
    await page.evaluate(START, { ns, endpoint: env.collector.url, config: { eventMethod } })
    await page.evaluate((ns) => {
      snowplow.setUserId('sp-user-1', [ns])
      snowplow.trackPageView({}, [ns])
      snowplow.trackStructEvent({ category: 'video', action: 'play', label: 'intro', value: 3 }, [ns])
      snowplow.trackSelfDescribingEvent({ event: { schema: 'iglu:com.acme/add_to_cart/jsonschema/1-0-0', data: { sku: 'sku-1', quantity: 2 } } }, [ns])
    }, ns)
    const rows = await env.collector.waitFor((r) => r.length === 3, inNamespace(ns))
    // The tracker reports success only after reading the answer, which may come after the commit.
    await page.waitForFunction((ns) => window.sent[ns].length >= 3, ns)
    const sent = await page.evaluate((ns) => window.sent[ns], ns)
    assert.equal(sent.length, 3)
    for (const payload of sent) {
      const row = rows.find((r) => r.message_id === payload.eid)
      assert.ok(row, `event ${payload.eid} (${payload.e}) is stored under its eid`)
      assert.equal(row.anonymous_id, payload.duid, 'duid is the anonymousId')
      assert.equal(row.user_id, 'sp-user-1')
      assert.equal(row.ip, '127.0.0.0')
      assert.equal(row.payload.context.snowplow.appId, 'shop-web')
      assert.equal(row.payload.context.snowplow.domainSessionId, payload.sid)
      assert.equal(row.payload.context.page.url, env.site.url('www.shop.test', '/peer/snowplow'))
      assert.match(row.payload.context.userAgent, /HeadlessChrome|Chrome/)
      assert.ok(row.payload.context.snowplow.entities.some((e) => e.schema.includes('/web_page/')), 'the web_page entity is kept')
    }
    const [pv] = rows.filter((r) => r.type === 'page')
    assert.equal(pv.payload.properties.title, 'snowplow fixture')
    const [se] = rows.filter((r) => r.event === 'play')
    assert.deepEqual(se.payload.properties, { category: 'video', action: 'play', label: 'intro', value: 3 })
    const [sd] = rows.filter((r) => r.event === 'add_to_cart')
    assert.deepEqual(sd.payload.properties, { sku: 'sku-1', quantity: 2 })
    assert.equal(sd.payload.context.snowplow.schema, 'iglu:com.acme/add_to_cart/jsonschema/1-0-0')
  }
  assert.ok(wire.some((r) => r.method === 'POST' && r.url.endsWith('/com.snowplowanalytics.snowplow/tp2')))
  assert.ok(wire.some((r) => r.method === 'GET' && new URL(r.url).pathname === '/i'))
  assert.deepEqual(escapes, [])
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('anonymous tracking with server anonymisation stores no ids and no IP', async () => {
  const { context, page, wire } = await openPage()
  await page.evaluate(START, {
    ns: 'sp-anon',
    endpoint: env.collector.url,
    config: { anonymousTracking: { withServerAnonymisation: true, withSessionTracking: true } },
  })
  await page.evaluate(() => {
    snowplow.setUserId('sp-anon-user', ['sp-anon'])
    snowplow.trackPageView({}, ['sp-anon'])
    snowplow.trackStructEvent({ category: 'video', action: 'pause' }, ['sp-anon'])
  })
  const rows = await env.collector.waitFor((r) => r.length === 2, inNamespace('sp-anon'))
  const posts = wire.filter((r) => r.method === 'POST')
  assert.ok(posts.length > 0 && posts.every((r) => r.headers['sp-anonymous'] === '*'), 'the tracker asked for server anonymisation')
  const sent = await page.evaluate(() => window.sent['sp-anon'])
  for (const row of rows) {
    assert.equal(row.anonymous_id, null)
    assert.equal(row.user_id, null)
    assert.equal(row.session_id, null)
    assert.equal(row.ip, null, 'no address, not even a truncated one')
    const stored = JSON.stringify(row)
    assert.ok(!stored.includes('sp-anon-user'), stored)
    assert.equal(row.payload.context.snowplow.domainSessionId, undefined)
    const payload = sent.find((p) => p.eid === row.message_id)
    assert.ok(payload.sid, 'the tracker itself still sends its session id: only the server can drop it')
    for (const id of [payload.duid, payload.sid, payload.uid].filter(Boolean)) assert.ok(!stored.includes(id), `${id} is stored`)
  }
  await context.close()
})

test('an event whose answer was lost is sent again by the tracker and stored once', async () => {
  const proxy = await startFaultProxy(env.collector.url, (req, attempt) => (attempt === 1 ? 'lose-answer' : 'pass'))
  try {
    const { context, page } = await openPage()
    await page.evaluate(START, { ns: 'sp-retry', endpoint: proxy.url, config: {} })
    await page.evaluate(() => snowplow.trackPageView({ title: 'Retried' }, ['sp-retry']))
    const waitFor = async (check) => {
      const deadline = Date.now() + 10_000
      while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    }
    await waitFor(() => proxy.log.length >= 1)
    // The tracker keeps a failed event and sends it with its next flush.
    await new Promise((r) => setTimeout(r, 300))
    await page.evaluate(() => snowplow.flushBuffer({}, ['sp-retry']))
    await waitFor(() => proxy.log.length >= 2)
    const eids = proxy.log.map((e) => JSON.parse(e.body).data[0].eid)
    assert.deepEqual(proxy.log.map((e) => e.outcome), ['lose-answer', 'pass'])
    assert.equal(eids[0], eids[1], 'the same event, twice')
    const rows = env.collector.events(`message_id = '${eids[0]}'`)
    assert.equal(rows.length, 1)
    assert.equal(rows[0].payload.properties.title, 'Retried')
    await context.close()
  } finally {
    await proxy.stop()
  }
})
