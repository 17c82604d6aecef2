// Delivery from the browser: batching, keepalive on exit, the durable queue and its cap, retries and drops.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitForRequests } from './harness/browser.mjs'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const granted = () => a.setConsent({ analytics: 'granted' })

test('batches are cut by count, by time and by bytes', async () => {
  const { page, context, batches } = await env.open({ init: env.config({ delivery: { batchSize: 5, flushIntervalMs: 60_000 } }) })
  await page.evaluate(granted)
  await page.evaluate(() => {
    for (let i = 0; i < 12; i++) a.track('bc ' + i)
  })
  // No flush() call and a one-minute interval: only the count can have sent them.
  await env.collector.waitFor((r) => r.length === 12, `event like 'bc %'`)
  const eventsLike = (prefix) => (seen) => seen.flatMap((b) => b.events).filter((e) => e.event?.startsWith(prefix)).length
  await waitForRequests(batches, eventsLike('bc '), 12)
  const counted = batches.filter((b) => b.events.some((e) => e.event?.startsWith('bc ')))
  assert.ok(counted.length >= 3, `${counted.length} requests`)
  for (const b of counted) assert.ok(b.events.length <= 5, `at most batchSize events per request, got ${b.events.length}`)
  await context.close()

  const timed = await env.open({ init: env.config({ delivery: { batchSize: 100, flushIntervalMs: 300 } }) })
  await timed.page.evaluate(granted)
  await timed.page.evaluate(() => a.track('bt 1'))
  await env.collector.waitFor((r) => r.length === 1, `event = 'bt 1'`, 5000)
  await timed.context.close()

  const sized = await env.open({ init: env.config({ delivery: { batchSize: 100, flushIntervalMs: 60_000, maxBatchBytes: 4000 } }) })
  await sized.page.evaluate(granted)
  await sized.page.evaluate(() => {
    for (let i = 0; i < 12; i++) a.track('bb ' + i, { pad: 'z'.repeat(900) })
  })
  await env.collector.waitFor((r) => r.length === 12, `event like 'bb %'`)
  await waitForRequests(sized.batches, eventsLike('bb '), 12)
  const bySize = sized.batches.filter((b) => b.events.some((e) => e.event?.startsWith('bb ')))
  assert.ok(bySize.length >= 4, `cut by bytes into ${bySize.length} requests`)
  for (const b of bySize) assert.ok(JSON.stringify(b.events).length < 4000 + 2000)
  await sized.context.close()
})

test('the last event before navigating away arrives (keepalive flush on pagehide)', async () => {
  // Memory storage and a long interval: the only way out is the exit flush.
  const { page, context } = await env.open({ init: env.config({ storage: 'memory', delivery: { flushIntervalMs: 600_000 } }) })
  await page.evaluate(granted)
  await page.evaluate(() => a.track('kl last click'))
  await page.goto(env.site.url('other.test', '/no-tracker'))
  // Playwright does not report keepalive requests sent during unload; the store is the witness.
  await env.collector.waitFor((r) => r.length === 1, `event = 'kl last click'`)
  await context.close()
})

test('the durable queue exists only while storage is allowed', async () => {
  const { page, context } = await env.open({ init: env.config({ consent: { whilePending: 'anonymous' }, endpoint: 'http://127.0.0.1:9', delivery: { flushIntervalMs: 60_000 } }) })
  await page.evaluate(() => a.track('dq anonymous'))
  await sleep(100)
  assert.equal(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue')), null, 'no consent: memory only')
  await page.evaluate(granted)
  await page.evaluate(() => a.track('dq granted'))
  await sleep(100)
  // Format 2: { v, events }.
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue'))).events
  assert.deepEqual(stored.map((i) => i.event.event || i.event.type), ['dq anonymous', 'consent', 'dq granted'])
  await context.close()
})

test('the queue is capped: oldest dropped and counted, in memory and on the device', async () => {
  const { page, context } = await env.open({ init: env.config({ endpoint: 'http://127.0.0.1:9', delivery: { maxQueue: 5, flushIntervalMs: 60_000 } }) })
  const stats = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    for (let i = 0; i < 8; i++) a.track('cap ' + i)
    await new Promise((r) => setTimeout(r, 50))
    return a.stats()
  })
  assert.equal(stats.queued, 5)
  assert.equal(stats.dropped.overflow, 4, 'the consent event and the 3 oldest tracks')
  // Format 2: { v, events }.
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('ast_pk_demo_queue'))).events
  assert.deepEqual(stored.map((i) => i.event.event), ['cap 3', 'cap 4', 'cap 5', 'cap 6', 'cap 7'])
  await context.close()
})

test('network errors, 408, 429 (Retry-After honoured) and 5xx are retried; the event is stored once', async () => {
  const script = ['reset', { status: 503 }, { status: 408 }, { status: 429, headers: { 'retry-after': '1' } }, 'lose-answer', { status: 500 }]
  const proxy = await startFaultProxy(env.collector.url, (req, n) => script[n - 1] || 'pass')
  const { page, context } = await env.open({ init: env.config({ endpoint: proxy.url, delivery: { retryBaseMs: 50, retryMaxMs: 200 } }) })
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.track('rt retried')
  })
  const rows = await env.collector.waitFor((r) => r.length === 1, `event = 'rt retried'`, 20_000)
  await sleep(300)
  assert.equal(env.collector.events(`event = 'rt retried'`).length, 1, 'once, although the collector saw it twice')
  assert.deepEqual(proxy.log.map((e) => e.outcome), ['reset', 503, 408, 429, 'lose-answer', 500, 'pass'])
  const after429 = proxy.log[4].at - proxy.log[3].at
  assert.ok(after429 >= 950, `waited ${after429} ms after Retry-After: 1`)
  assert.equal(rows[0].type, 'track')
  await context.close()
  await proxy.stop()
})

test('other 4xx answers drop the batch with a console warning, without retrying', async () => {
  const proxy = await startFaultProxy(env.collector.url, () => ({ status: 400 }))
  const { page, context, warnings } = await env.open({ init: env.config({ endpoint: proxy.url, delivery: { retryBaseMs: 50 } }) })
  const stats = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.track('r4xx')
    await a.flush()
    await new Promise((r) => setTimeout(r, 300))
    return a.stats()
  })
  assert.equal(proxy.log.length, 1, 'one attempt only')
  assert.equal(stats.dropped.http_400, 2, 'consent event and track, counted by reason')
  assert.equal(stats.queued, 0)
  assert.ok(warnings.some((w) => w.includes('400')), 'a console warning')
  await context.close()
  await proxy.stop()
})
