import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveOptions } from '../src/options'

test('defaults: everything sampled, inputs masked, 5 s chunks', () => {
  const o = resolveOptions({ writeKey: 'pk' }, 'https://c.example/')
  assert.equal(o.endpoint, 'https://c.example')
  assert.equal(o.sampleRate, 1)
  assert.equal(o.maskLevel, 'medium')
  assert.equal(o.flushIntervalMs, 5000)
})

test('an unknown mask level falls back to medium, never to less masking', () => {
  assert.equal(resolveOptions({ writeKey: 'pk', maskLevel: 'none' as never }, 'x').maskLevel, 'medium')
  assert.equal(resolveOptions({ writeKey: 'pk', maskLevel: 'conservative' }, 'x').maskLevel, 'conservative')
})

test('a sample rate out of range is ignored', () => {
  assert.equal(resolveOptions({ writeKey: 'pk', sampleRate: 0 }, 'x').sampleRate, 0)
  assert.equal(resolveOptions({ writeKey: 'pk', sampleRate: 7 }, 'x').sampleRate, 1)
})
