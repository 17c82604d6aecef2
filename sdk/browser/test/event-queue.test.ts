import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nextBatch } from '../src/batch'
import type { AnonymousLevel, QueuedEvent } from '../src/event'
import { EventQueue } from '../src/event-queue'

let n = 0
function item(anonymous: false | AnonymousLevel = false, bytes = 100, needs: string[] = anonymous ? [] : ['analytics']): QueuedEvent {
  return { event: { messageId: 'm' + ++n, type: 'track', timestamp: '', context: { anonymous } } as never, needs, bytes }
}

test('the queue is capped: the oldest events go first and are counted', () => {
  let changes = 0
  const q = new EventQueue(3, () => changes++)
  const items = [item(), item(), item(), item(), item()]
  items.forEach((i) => q.push(i))
  assert.deepEqual(q.items.map((i) => i.event.messageId), items.slice(2).map((i) => i.event.messageId))
  assert.equal(q.overflowed, 2)
  assert.equal(changes, 5)
})

test('adopting stored events puts them first, skips ones already held, respects the cap', () => {
  const q = new EventQueue(3, () => {})
  const a = item()
  const b = item()
  q.push(a)
  q.adopt([b, a, null as never])
  assert.deepEqual(q.items.map((i) => i.event.messageId), [b.event.messageId, a.event.messageId])
  q.adopt([item(), item()])
  assert.equal(q.items.length, 3)
  assert.equal(q.overflowed, 1)
})

test('purge drops what depends on a category; rescue may keep a cleaned copy', () => {
  const q = new EventQueue(10, () => {})
  const identified = item(false)
  const marketing = item(false, 100, ['analytics', 'marketing'])
  const anonymous = item('server')
  ;[identified, marketing, anonymous].forEach((i) => q.push(i))
  assert.equal(q.purge('marketing'), 1)
  assert.deepEqual(q.items, [identified, anonymous])
  const kept = { ...identified, needs: [] }
  assert.equal(q.purge('analytics', (i) => (i === identified ? kept : undefined)), 0)
  assert.deepEqual(q.items, [kept, anonymous])
})

test('a batch never mixes anonymous and identified events', () => {
  const items = [item(false), item('server'), item(false), item('full'), item(false), item('server')]
  const first = nextBatch(items, new Set(), 10, 1e6)
  assert.deepEqual(first, [items[0], items[2], items[4]])
  const done = new Set(first.map((i) => i.event.messageId))
  const second = nextBatch(items, done, 10, 1e6)
  assert.deepEqual(second, [items[1], items[5]], 'server-level events travel together, without full ones')
  second.forEach((i) => done.add(i.event.messageId))
  assert.deepEqual(nextBatch(items, done, 10, 1e6), [items[3]])
})

test('batches are cut by count and by bytes, an oversized single event still goes alone', () => {
  const items = Array.from({ length: 7 }, () => item(false, 400))
  assert.equal(nextBatch(items, new Set(), 5, 1e6).length, 5)
  assert.equal(nextBatch(items, new Set(), 50, 1000).length, 2)
  assert.equal(nextBatch([item(false, 5000)], new Set(), 50, 1000).length, 1)
  assert.deepEqual(nextBatch([], new Set(), 5, 1000), [])
})
