// Delivery on its own: Node's fetch against a real HTTP server that answers as each test needs.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, test } from 'node:test'
import { Delivery, DeliveryOptions, DeliveryStats } from '../src/delivery'
import type { AnonymousLevel, QueuedEvent } from '../src/event'
import { EventQueue } from '../src/event-queue'
import { StandIn, startStandIn } from './support/collector-stand-in'

let collector: StandIn
/** Deliveries made by the test, stopped after it: their timers would keep the process alive. */
let made: Delivery[] = []
beforeEach(async () => {
  collector = await startStandIn()
})
afterEach(async () => {
  made.forEach((d) => d.stop())
  made = []
  await collector.close()
})

let n = 0
function event(anonymous: false | AnonymousLevel = false, bytes = 100): QueuedEvent {
  const messageId = 'm' + ++n
  return { event: { messageId, type: 'track', event: 'e', timestamp: '', context: { anonymous } } as never, needs: [], bytes }
}

function delivery(options: Partial<DeliveryOptions> = {}) {
  const queue = new EventQueue(100, () => {})
  const stats: DeliveryStats = { sent: 0, retries: 0, dropped: {} }
  const opts: DeliveryOptions = {
    endpoint: collector.url,
    writeKey: 'pk_unit',
    batchSize: 3,
    flushIntervalMs: 60_000,
    maxBatchBytes: 60_000,
    retryBaseMs: 10,
    retryMaxMs: 50,
    ...options,
  }
  const d = new Delivery(opts, queue, stats)
  made.push(d)
  const add = (...items: QueuedEvent[]) => items.forEach((i) => (queue.push(i), d.schedule()))
  return { d, queue, stats, add }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a full batch goes at once; later events do not push it back', async () => {
  const { queue, add } = delivery({ batchSize: 3, flushIntervalMs: 60_000 })
  add(event(), event(), event())
  // Events keep arriving after the batch is full (the timer is set once, not reset per event).
  for (let i = 0; i < 20; i++) {
    add(event())
    await sleep(1)
  }
  const [first] = await collector.requests(1, 1000)
  assert.equal(first.path, '/v1/batch')
  assert.equal(first.events.length, 3)
  assert.equal(JSON.parse(first.body).writeKey, 'pk_unit')
  await collector.requests(8, 2000)
  await sleep(50)
  assert.equal(queue.items.length, 0, 'everything acknowledged left the queue')
})

test('fewer events than a batch wait for the flush interval', async () => {
  const { add } = delivery({ batchSize: 10, flushIntervalMs: 150 })
  const start = Date.now()
  add(event(), event())
  await sleep(80)
  assert.equal(collector.received.length, 0, 'not before the interval')
  const [r] = await collector.requests(1)
  assert.ok(r.at - start >= 140, `sent after ${r.at - start} ms`)
  assert.equal(r.events.length, 2)
})

test('batches are cut by bytes too, and a batch never mixes anonymities', async () => {
  const { d, add } = delivery({ batchSize: 10, maxBatchBytes: 250 })
  add(event(false, 100), event(false, 100), event(false, 100), event('server', 10), event(false, 10))
  await d.flush()
  const sizes = collector.received.map((r) => r.events.map((e) => String(e.context.anonymous)))
  assert.deepEqual(sizes, [['false', 'false'], ['false', 'false'], ['server']])
  const anonymous = collector.received[2]
  assert.equal(anonymous.headers['x-assent-anonymous'], '1', 'server anonymity is asked for with the header')
  assert.equal(collector.received[0].headers['x-assent-anonymous'], undefined)
})

test('503 with Retry-After: the events stay and go again no sooner than asked, even on an explicit flush', async () => {
  const { d, queue, stats, add } = delivery({ flushIntervalMs: 10 })
  let calls = 0
  collector.answer = (req) => (++calls === 1 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 200, body: { accepted: req.events.length, rejected: [] } })
  add(event())
  await d.flush()
  assert.equal(queue.items.length, 1, 'kept for the retry')
  assert.equal(stats.retries, 1)
  await d.flush()
  assert.equal(collector.received.length, 1, "an explicit flush honours the collector's Retry-After")
  const [first, second] = await collector.requests(2, 3000)
  assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`)
  assert.equal(second.body.includes(first.events[0].messageId), true, 'the same event')
  await sleep(20)
  assert.equal(queue.items.length, 0)
  assert.equal(stats.sent, 1)
})

test('a network failure is retried with backoff; an explicit flush skips our own backoff', async () => {
  const { d, queue, add } = delivery({ endpoint: 'http://127.0.0.1:9', retryBaseMs: 60_000, retryMaxMs: 60_000 })
  add(event())
  await d.flush()
  assert.equal(queue.items.length, 1)
  const stats = d.stats
  await d.flush()
  assert.equal(stats.retries, 2, 'the explicit flush tried again at once')
})

test('other 4xx drop the batch with a reason; rejected events of a 200 are counted', async () => {
  const { d, queue, stats, add } = delivery({ batchSize: 10 })
  const warnings: unknown[] = []
  const warn = console.warn
  console.warn = (...args: unknown[]) => warnings.push(args)
  try {
    collector.answer = () => ({ status: 400, body: { error: 'bad' } })
    add(event(), event())
    await d.flush()
    assert.equal(queue.items.length, 0, 'a 400 is never retried')
    assert.equal(stats.dropped.http_400, 2)
    collector.answer = (req) => ({ status: 200, body: { accepted: req.events.length - 1, rejected: [{ index: 0, reason: 'event: missing' }] } })
    add(event(), event())
    await d.flush()
    assert.equal(stats.dropped.rejected, 1)
    assert.equal(warnings.length, 2)
  } finally {
    console.warn = warn
  }
})

test('stop() cancels the request in flight and nothing is scheduled after it; sendNow still sends one request', async () => {
  const { d, queue, add } = delivery({ flushIntervalMs: 10 })
  add(event())
  const flushing = d.flush()
  d.stop()
  await flushing
  add(event())
  await sleep(80)
  const before = collector.received.length
  assert.ok(before <= 1, 'at most the request already on its way')
  assert.equal(queue.items.length, 2, 'a stopped delivery removes nothing')
  d.sendNow([event('server')])
  await collector.requests(before + 1)
  assert.equal(collector.received.at(-1)!.headers['x-assent-anonymous'], '1')
})

test('on exit, events go with keepalive up to a 60 KB budget', async () => {
  const { d, add } = delivery({ batchSize: 10, maxBatchBytes: 100_000 })
  add(event(false, 25_000), event(false, 25_000), event(false, 25_000))
  d.flushOnExit()
  await collector.requests(1)
  await sleep(100)
  const sent = collector.received.flatMap((r) => r.events).length
  assert.equal(sent, 2, 'the third event would pass the keepalive budget')
})
