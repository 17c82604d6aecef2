// Amplitude's browser SDK (@amplitude/analytics-browser from npm), unchanged, in real Chromium
// on another origin, pointed at `assent serve`: page views, tracks and identifies land in the
// store with their ids, its remote configuration gets a harmless answer from the collector,
// and a retry after a lost answer adds nothing.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { peerRoutes, recordEscapes } from './harness/peer-trackers.mjs'

const env = setup({ routes: peerRoutes('amplitude') })

async function openPage() {
  const context = await env.browser.newContext()
  const escapes = recordEscapes(context, [`www.shop.test:${env.site.port}`, '127.0.0.1'])
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e))
  const configFetches = []
  page.on('request', (req) => req.url().startsWith(env.collector.url + '/config/') && configFetches.push(req.url()))
  await page.goto(env.site.url('www.shop.test', '/peer/amplitude'))
  return { context, page, escapes, pageErrors, configFetches }
}

/** The only changes a migrating site makes: where events and remote configuration go. */
const options = (serverUrl, collector) => ({
  serverUrl,
  remoteConfig: { serverUrl: collector + '/config' },
  flushIntervalMillis: 50,
})

test('page views, tracks and identifies land in the store with their ids', async () => {
  const { context, page, escapes, pageErrors, configFetches } = await openPage()
  const sent = await page.evaluate(async (opts) => {
    await amplitude.init('pk_peer', opts).promise
    const played = await amplitude.track('Amp Played', { genre: 'jazz' }).promise
    amplitude.setUserId('amp-user-1')
    const identified = await amplitude.identify(new amplitude.Identify().set('plan', 'pro').add('logins', 1)).promise
    return {
      deviceId: amplitude.getDeviceId(),
      sessionId: amplitude.getSessionId(),
      played: { code: played.code, insertId: played.event.insert_id, eventId: played.event.event_id },
      identified: { code: identified.code, insertId: identified.event.insert_id },
    }
  }, options(env.collector.url + '/2/httpapi', env.collector.url))
  assert.equal(sent.played.code, 200, 'the SDK read the answer as a success')
  assert.equal(sent.identified.code, 200)

  const rows = await env.collector.waitFor((r) => r.some((x) => x.type === 'page') && r.length >= 3, `anonymous_id = '${sent.deviceId}'`)
  const played = rows.find((r) => r.message_id === sent.played.insertId)
  assert.equal(played.type, 'track')
  assert.equal(played.event, 'Amp Played')
  assert.equal(played.user_id, null)
  assert.equal(played.session_id, sent.sessionId)
  assert.equal(played.sequence, sent.played.eventId)
  assert.equal(played.payload.properties.genre, 'jazz')
  assert.equal(played.ip, '127.0.0.0', 'ip "$remote": the request address, truncated by the project policy')
  assert.match(played.payload.context.library.name, /^amplitude-ts/)

  const identified = rows.find((r) => r.message_id === sent.identified.insertId)
  assert.equal(identified.type, 'identify')
  assert.equal(identified.user_id, 'amp-user-1')
  assert.deepEqual(identified.payload.traits, { plan: 'pro' })
  assert.deepEqual(identified.payload.context.amplitude.userPropertyOperations, { $add: { logins: 1 } })

  const pageView = rows.find((r) => r.type === 'page')
  assert.equal(pageView.payload.properties['[Amplitude] Page Path'], '/peer/amplitude')

  assert.ok(configFetches.length > 0, 'the SDK asked the collector for its remote configuration')
  assert.deepEqual(escapes, [], 'the SDK reached nothing but the page and the collector')
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('an upload whose answer was lost is retried by the SDK and stored once', async () => {
  const proxy = await startFaultProxy(env.collector.url, (req, attempt) => (attempt === 1 ? 'lose-answer' : 'pass'))
  try {
    const { context, page } = await openPage()
    const sent = await page.evaluate(async (opts) => {
      await amplitude.init('pk_peer_other', { ...opts, autocapture: false }).promise
      const result = await amplitude.track('Amp Retried').promise
      return { code: result.code, insertId: result.event.insert_id }
    }, options(proxy.url + '/2/httpapi', env.collector.url))
    assert.equal(sent.code, 200)
    const attempts = proxy.log.filter((e) => e.body.includes(sent.insertId))
    assert.deepEqual(
      attempts.map((e) => [e.url, e.outcome]),
      [
        ['/2/httpapi', 'lose-answer'],
        ['/2/httpapi', 'pass'],
      ],
    )
    const rows = env.collector.events(`message_id = '${sent.insertId}'`)
    assert.equal(rows.length, 1)
    assert.equal(rows[0].event, 'Amp Retried')
    await context.close()
  } finally {
    await proxy.stop()
  }
})
