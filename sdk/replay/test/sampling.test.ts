import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSampled } from '../src/sampling'

test('a session is always or never recorded at the edges', () => {
  assert.equal(isSampled('a', 1, 1), true)
  assert.equal(isSampled('a', 1, 0), false)
})

test('the decision is the same every time it is asked for one session', () => {
  for (let i = 0; i < 50; i++) {
    const first = isSampled('visitor-' + i, 1_764_500_000_000 + i, 0.5)
    for (let j = 0; j < 3; j++) assert.equal(isSampled('visitor-' + i, 1_764_500_000_000 + i, 0.5), first)
  }
})

test('the share of sampled sessions follows sampleRate', () => {
  let sampled = 0
  const n = 20_000
  for (let i = 0; i < n; i++) if (isSampled(`anon-${i * 7919}`, 1_764_500_000_000 + i * 1000, 0.2)) sampled++
  assert.ok(Math.abs(sampled / n - 0.2) < 0.02, `sampled ${sampled} of ${n}`)
})

test('a new session of the same visitor draws again', () => {
  const draws = new Set<boolean>()
  for (let s = 0; s < 40; s++) draws.add(isSampled('same-visitor', 1_764_500_000_000 + s * 1_800_000, 0.5))
  assert.equal(draws.size, 2)
})
