import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findPeerIds, PeerSources } from '../src/migration'

/** A device as the peers left it. */
const device = (cookies: Record<string, string>, local: Record<string, string> = {}): PeerSources => ({
  cookies,
  local: (k) => local[k],
  localKeys: Object.keys(local),
})
const b64 = (text: string) => Buffer.from(text).toString('base64')

test('Segment: the JSON-quoted ajs_ cookies, or localStorage first; the user id too', () => {
  assert.deepEqual(findPeerIds(['segment'], device({ ajs_anonymous_id: '%22seg-123%22', ajs_user_id: '%22u-1%22' })), { anonymousId: 'seg-123', userId: 'u-1' })
  assert.deepEqual(findPeerIds(['segment'], device({ ajs_anonymous_id: 'seg-plain' })), { anonymousId: 'seg-plain', userId: undefined })
  assert.deepEqual(findPeerIds(['segment'], device({}, { ajs_anonymous_id: '"seg-ls"', ajs_user_id: '42' })), { anonymousId: 'seg-ls', userId: '42' })
})

test('Amplitude: Browser SDK 2 (base64 JSON), legacy dotted amp_<key6>, and the oldest amplitude_id_<key>', () => {
  const v2 = b64(encodeURIComponent(JSON.stringify({ deviceId: 'amp-dev-1', userId: 'amp-user', sessionId: 1 })))
  assert.deepEqual(findPeerIds(['amplitude'], device({ AMP_0123456789: v2, AMP_MKTG_0123456789: 'x' })), { anonymousId: 'amp-dev-1', userId: 'amp-user' })
  assert.deepEqual(findPeerIds(['amplitude'], device({ amp_a1b2c3: 'legacy-dev.dXNlcg==.0.1.2.3' })), { anonymousId: 'legacy-dev', userId: 'user' })
  assert.deepEqual(findPeerIds(['amplitude'], device({ amp_a1b2c3: 'legacy-dev..0.1.2.3' })), { anonymousId: 'legacy-dev', userId: undefined })
  const oldest = b64(JSON.stringify({ deviceId: 'amp-old', userId: 'jörg@example.com' }))
  assert.deepEqual(findPeerIds(['amplitude'], device({ amplitude_id_0123456789abcdef0123456789abcdefexample: encodeURIComponent(oldest) })), { anonymousId: 'amp-old', userId: undefined }, 'a user id outside the accepted characters is not adopted')
  assert.deepEqual(findPeerIds(['amplitude'], device({}, { amplitude_id_abc: b64(JSON.stringify({ deviceId: 'amp-ls', userId: 'u@x.test' })) })), { anonymousId: 'amp-ls', userId: 'u@x.test' })
})

test('PostHog: ph_<key>_posthog, identified or anonymous, cookie or localStorage', () => {
  const identified = JSON.stringify({ distinct_id: 'user@shop.test', $device_id: 'ph-dev', $user_state: 'identified' })
  assert.deepEqual(findPeerIds(['posthog'], device({ ph_phc_abc_posthog: encodeURIComponent(identified) })), { anonymousId: 'ph-dev', userId: 'user@shop.test' })
  const anonymous = JSON.stringify({ distinct_id: 'ph-anon', $device_id: 'ph-anon', $user_state: 'anonymous' })
  assert.deepEqual(findPeerIds(['posthog'], device({}, { ph_phc_abc_posthog: anonymous })), { anonymousId: 'ph-anon', userId: undefined })
  const old = JSON.stringify({ distinct_id: 'ph-old' })
  assert.deepEqual(findPeerIds(['posthog'], device({ ph_phc_abc_posthog: encodeURIComponent(old) })), { anonymousId: 'ph-old', userId: undefined }, 'before $device_id existed')
})

test('Snowplow: the first part of _sp_id.<hash>; it keeps no user id', () => {
  assert.deepEqual(findPeerIds(['snowplow'], device({ '_sp_id.1fff': 'sp-uuid-1.1700000000.3.1700000100.1700000000' })), { anonymousId: 'sp-uuid-1', userId: undefined })
})

test('peers are asked in the order given; junk and absent cookies give nothing', () => {
  const cookies = { ajs_anonymous_id: '%22seg%22', '_sp_id.1fff': 'sp.1' }
  assert.equal(findPeerIds(['snowplow', 'segment'], device(cookies)).anonymousId, 'sp')
  assert.deepEqual(findPeerIds(['segment'], device({ ajs_anonymous_id: '%22%3Cscript%3E%22' })), {})
  assert.deepEqual(findPeerIds(['amplitude'], device({ AMP_0123456789: '!!notbase64' })), {})
  assert.deepEqual(findPeerIds(['posthog'], device({ ph_x_posthog: '%7Bnot json' })), {})
  assert.deepEqual(findPeerIds(['segment', 'amplitude', 'snowplow', 'posthog'], device({})), {})
})
