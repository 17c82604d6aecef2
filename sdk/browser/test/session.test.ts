import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readSession, touchSession } from '../src/session'

const MIN = 60_000

test('the first event starts a session identified by its start time', () => {
  assert.deepEqual(touchSession(undefined, 1000, 30 * MIN), { id: 1000, last: 1000, seq: 1 })
})

test('activity within the timeout keeps the session; the sequence counts every event', () => {
  let s = touchSession(undefined, 0, 30 * MIN)
  s = touchSession(s, 29 * MIN, 30 * MIN)
  s = touchSession(s, 58 * MIN, 30 * MIN)
  assert.deepEqual(s, { id: 0, last: 58 * MIN, seq: 3 })
})

test('30 minutes of inactivity start a new session; the device sequence goes on', () => {
  const s = touchSession({ id: 0, last: 10 * MIN, seq: 41 }, 40 * MIN, 30 * MIN)
  assert.deepEqual(s, { id: 40 * MIN, last: 40 * MIN, seq: 42 })
})

test('a clock set back before the session start begins a new session', () => {
  assert.equal(touchSession({ id: 5000, last: 6000, seq: 1 }, 4000, 30 * MIN).id, 4000)
})

test('only well-formed stored sessions are read', () => {
  assert.deepEqual(readSession({ id: 1, last: 2, seq: 3 }), { id: 1, last: 2, seq: 3 })
  assert.equal(readSession({ id: '1', last: 2, seq: 3 }), undefined)
  assert.equal(readSession(null), undefined)
})
