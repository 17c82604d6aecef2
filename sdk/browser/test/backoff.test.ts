import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffDelay, isRetryable, parseRetryAfter } from '../src/backoff'

test('full jitter: the delay is uniform between 0 and the exponential cap', () => {
  assert.equal(backoffDelay(1, 1000, 60_000, () => 0), 0)
  assert.equal(backoffDelay(1, 1000, 60_000, () => 0.999999), 1999)
  assert.equal(backoffDelay(3, 1000, 60_000, () => 0.5), 4000)
  assert.equal(backoffDelay(20, 1000, 60_000, () => 0.5), 30_000, 'capped at maxMs')
  assert.equal(backoffDelay(5000, 1000, 60_000, () => 0.5), 30_000, 'huge attempt counts do not overflow')
})

test('full jitter spreads retries out (not all at the cap)', () => {
  const delays = Array.from({ length: 2000 }, () => backoffDelay(4, 1000, 60_000))
  assert.ok(delays.every((d) => d >= 0 && d < 16_000))
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length
  assert.ok(mean > 6000 && mean < 10_000, `mean ${mean} should be near 8000`)
})

test('Retry-After as seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('7', 0), 7000)
  assert.equal(parseRetryAfter(' 0 ', 0), 0)
  const now = Date.parse('2026-11-22T10:00:00Z')
  assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now), 30_000)
  assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now), 0, 'a past date means now')
  assert.equal(parseRetryAfter('soon', now), undefined)
  assert.equal(parseRetryAfter(null, now), undefined)
})

test('retry on 408, 429 and 5xx; never on other 4xx', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(isRetryable(s), true, String(s))
  for (const s of [400, 401, 403, 404, 413, 422]) assert.equal(isRetryable(s), false, String(s))
})
