// Segment's analytics.js (@segment/analytics-next from npm), unchanged, in real Chromium on
// another origin, pointed at `assent serve`: its settings come from the collector (`cdnURL`),
// its events land in the store with their ids, and a retry after a lost answer adds nothing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { peerRoutes, recordEscapes } from './harness/peer-trackers.mjs'

const env = setup({ routes: peerRoutes('segment') })

async function openPage() {
  const context = await env.browser.newContext()
  const collectorHost = new URL(env.collector.url).host
  const escapes = recordEscapes(context, [`www.shop.test:${env.site.port}`, collectorHost, '127.0.0.1'])
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e))
  await page.goto(env.site.url('www.shop.test', '/peer/segment'))
  return { context, page, escapes, pageErrors }
}

test('page, track, identify, group and alias land in the store with their ids', async () => {
  const { context, page, escapes, pageErrors } = await openPage()
  const wire = []
  page.on('request', (req) => req.url().startsWith(env.collector.url + '/v1/') && req.method() === 'POST' && wire.push(JSON.parse(req.postData())))
  const sent = await page.evaluate(async (cdnURL) => {
    // The only change a migrating site makes: where analytics.js gets its settings from.
    const [analytics] = await AnalyticsBrowser.load({ writeKey: 'pk_peer', cdnURL })
    const ids = []
    const keep = (ctx) => ids.push(ctx.event.messageId)
    keep(await analytics.page('Docs', 'Home', { section: 'intro' }))
    keep(await analytics.track('Seg Clicked', { plan: 'pro' }))
    const anonymousId = analytics.user().anonymousId()
    keep(await analytics.identify('seg-user-1', { email: 'ada@example.com' }))
    keep(await analytics.group('seg-group-1', { name: 'Acme' }))
    keep(await analytics.alias('seg-user-2', 'seg-user-1'))
    return { ids, anonymousId }
  }, env.collector.url)

  const rows = await env.collector.waitFor((r) => r.length === 5, `message_id in (${sent.ids.map((id) => `'${id}'`).join(',')})`)
  const byId = Object.fromEntries(rows.map((r) => [r.message_id, r]))
  const [pageRow, trackRow, identifyRow, groupRow, aliasRow] = sent.ids.map((id) => byId[id])
  assert.equal(pageRow.type, 'page')
  assert.equal(pageRow.event, 'Home')
  assert.equal(pageRow.anonymous_id, sent.anonymousId)
  assert.equal(pageRow.payload.properties.section, 'intro')
  assert.equal(pageRow.payload.context.page.url, env.site.url('www.shop.test', '/peer/segment'))
  assert.equal(trackRow.type, 'track')
  assert.equal(trackRow.event, 'Seg Clicked')
  assert.deepEqual(trackRow.payload.properties, { plan: 'pro' })
  assert.equal(trackRow.anonymous_id, sent.anonymousId)
  assert.equal(trackRow.user_id, null)
  assert.equal(identifyRow.type, 'identify')
  assert.equal(identifyRow.user_id, 'seg-user-1')
  assert.equal(identifyRow.anonymous_id, sent.anonymousId)
  assert.equal(identifyRow.payload.traits.email, 'ada@example.com')
  assert.equal(groupRow.type, 'group')
  assert.equal(groupRow.group_id, 'seg-group-1')
  assert.equal(groupRow.user_id, 'seg-user-1')
  assert.equal(aliasRow.type, 'alias')
  assert.equal(aliasRow.payload.previousId, 'seg-user-1')
  // Every identifier is stored as analytics.js put it on the wire (its alias sends the
  // current user as userId, whatever `to` says: that is the library's own behaviour).
  assert.equal(wire.length, 5)
  for (const body of wire) {
    const r = byId[body.messageId]
    assert.equal(r.type, body.type)
    assert.equal(r.anonymous_id, body.anonymousId ?? null)
    assert.equal(r.user_id, body.userId ?? null)
    assert.equal(r.group_id, body.groupId ?? null)
    assert.equal(r.payload.previousId, body.previousId)
  }
  for (const r of rows) assert.equal(r.ip, '127.0.0.0', 'the project IP policy (truncate) applies')

  assert.deepEqual(escapes, [], 'analytics.js reached nothing but the page and the collector')
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('an event whose answer was lost is retried by analytics.js and stored once', async () => {
  // The first POST reaches the collector, which commits it; the page never hears back.
  const proxy = await startFaultProxy(env.collector.url, (req, attempt) => (attempt === 1 ? 'lose-answer' : 'pass'))
  try {
    const { context, page } = await openPage()
    const messageId = await page.evaluate(
      async ({ cdnURL, apiHost }) => {
        const [analytics] = await AnalyticsBrowser.load(
          { writeKey: 'pk_peer', cdnURL },
          // analytics.js's documented override of where events go.
          { integrations: { 'Segment.io': { apiHost, protocol: 'http' } } },
        )
        const ctx = await analytics.track('Seg Retried')
        return ctx.event.messageId
      },
      { cdnURL: env.collector.url, apiHost: new URL(proxy.url).host + '/v1' },
    )
    const deadline = Date.now() + 15_000
    while (proxy.log.filter((e) => e.body.includes(messageId)).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const attempts = proxy.log.filter((e) => e.body.includes(messageId))
    assert.deepEqual(
      attempts.map((e) => [e.url, e.outcome]),
      [
        ['/v1/t', 'lose-answer'],
        ['/v1/t', 'pass'],
      ],
    )
    const rows = env.collector.events(`message_id = '${messageId}'`)
    assert.equal(rows.length, 1)
    assert.equal(rows[0].event, 'Seg Retried')
    await context.close()
  } finally {
    await proxy.stop()
  }
})
