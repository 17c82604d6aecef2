import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findPeerAnonymousId } from '../src/migration'

const none = () => undefined

test('Segment: the JSON-quoted ajs_anonymous_id cookie, or localStorage first', () => {
  assert.equal(findPeerAnonymousId(['segment'], { ajs_anonymous_id: '%22seg-123%22' }, none), 'seg-123')
  assert.equal(findPeerAnonymousId(['segment'], { ajs_anonymous_id: 'seg-plain' }, none), 'seg-plain')
  assert.equal(findPeerAnonymousId(['segment'], {}, (k) => (k === 'ajs_anonymous_id' ? '"seg-ls"' : undefined)), 'seg-ls')
})

test('Amplitude: Browser SDK 2 cookie (base64 JSON) and the legacy dotted cookie', () => {
  const v2 = Buffer.from(encodeURIComponent(JSON.stringify({ deviceId: 'amp-dev-1', sessionId: 1 }))).toString('base64')
  assert.equal(findPeerAnonymousId(['amplitude'], { AMP_0123456789: v2, AMP_MKTG_0123456789: 'x' }, none), 'amp-dev-1')
  assert.equal(findPeerAnonymousId(['amplitude'], { amp_a1b2c3: 'legacy-dev.dXNlcg==.0.1.2.3' }, none), 'legacy-dev')
})

test('Snowplow: the first part of _sp_id.<hash>', () => {
  assert.equal(findPeerAnonymousId(['snowplow'], { '_sp_id.1fff': 'sp-uuid-1.1700000000.3.1700000100.1700000000' }, none), 'sp-uuid-1')
})

test('peers are asked in the order given; junk and absent cookies give nothing', () => {
  const cookies = { ajs_anonymous_id: '%22seg%22', '_sp_id.1fff': 'sp.1' }
  assert.equal(findPeerAnonymousId(['snowplow', 'segment'], cookies, none), 'sp')
  assert.equal(findPeerAnonymousId(['segment'], { ajs_anonymous_id: '%22%3Cscript%3E%22' }, none), undefined)
  assert.equal(findPeerAnonymousId(['amplitude'], { AMP_0123456789: '!!notbase64' }, none), undefined)
  assert.equal(findPeerAnonymousId(['segment', 'amplitude', 'snowplow'], {}, none), undefined)
})
