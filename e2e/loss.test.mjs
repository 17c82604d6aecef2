// Nothing acknowledged is lost: 1 000 events tracked across reloads while a proxy between the page and the
// collector fails half the requests at random — every event is in the store exactly once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const TOTAL = 1000
const PAGES = 10

test('no event is lost or duplicated through random failures and reloads', { timeout: 240_000 }, async () => {
  // Half the requests fail: an error answer, a reset connection, or an answer lost after the
  // collector committed (the retry must then be a no-op).
  const faults = [{ status: 503 }, { status: 500 }, 'reset', 'lose-answer', { status: 429, headers: { 'retry-after': '0' } }]
  const proxy = await startFaultProxy(env.collector.url, () => (Math.random() < 0.5 ? faults[Math.floor(Math.random() * faults.length)] : 'pass'))
  const config = env.config({ endpoint: proxy.url, delivery: { flushIntervalMs: 100, batchSize: 20, retryBaseMs: 100, retryMaxMs: 1000 } })
  const { page, context, pageErrors } = await env.open({ init: config })
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }, { source: 'banner' }))

  const perPage = TOTAL / PAGES
  for (let p = 0; p < PAGES; p++) {
    // Track in bursts with pauses, so some batches are in flight (or waiting to retry) when the page goes.
    for (let burst = 0; burst < 4; burst++) {
      await page.evaluate(
        ({ from, to }) => {
          for (let n = from; n < to; n++) a.track('loss', { n })
        },
        { from: p * perPage + (burst * perPage) / 4, to: p * perPage + ((burst + 1) * perPage) / 4 },
      )
      await sleep(30 + Math.random() * 120)
    }
    await page.reload()
  }
  // The last page keeps retrying until everything is acknowledged.
  const deadline = Date.now() + 120_000
  let rows
  for (;;) {
    rows = env.collector.query(`select message_id, json_extract(payload, '$.properties.n') as n from events where event = 'loss'`)
    const queued = await page.evaluate(() => a.stats().queued)
    if ((rows.length >= TOTAL && queued === 0) || Date.now() > deadline) break
    await sleep(500)
  }
  const ns = rows.map((r) => r.n).sort((x, y) => x - y)
  const missing = []
  for (let n = 0; n < TOTAL; n++) if (!ns.includes(n)) missing.push(n)
  assert.deepEqual(missing, [], 'every tracked event is stored')
  assert.equal(rows.length, TOTAL, 'and stored exactly once')
  assert.equal(new Set(rows.map((r) => r.message_id)).size, TOTAL)
  const failed = proxy.log.filter((e) => e.outcome !== 'pass').length
  assert.ok(failed > proxy.log.length / 4, `the proxy really failed requests: ${failed} of ${proxy.log.length}`)
  assert.deepEqual(pageErrors, [])
  console.log(`# loss test: ${proxy.log.length} requests, ${failed} failed on purpose, ${TOTAL} events stored once`)
  await context.close()
  await proxy.stop()
})
