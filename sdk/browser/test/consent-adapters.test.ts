import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromGoogleConsentMode, fromTcf } from '../src/consent-adapters'

test('Google Consent Mode: analytics_storage → analytics, any ad refusal → marketing denied', () => {
  assert.deepEqual(fromGoogleConsentMode({ analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'denied' }), { analytics: 'granted', marketing: 'denied' })
  assert.deepEqual(fromGoogleConsentMode({ ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted', functionality_storage: 'denied' }), {
    marketing: 'granted',
    functional: 'denied',
  })
  assert.deepEqual(fromGoogleConsentMode({}), {})
})

test('TCF v2.2: purposes map to categories; replay is never granted by TCF', () => {
  const consents = { 1: true, 3: true, 4: true, 8: true, 9: true }
  assert.deepEqual(fromTcf({ gdprApplies: true, purpose: { consents } }), { analytics: 'granted', functional: 'denied', marketing: 'granted' })
  assert.deepEqual(fromTcf({ gdprApplies: true, purpose: { consents: { 8: true, 9: true } } }), { analytics: 'denied', functional: 'denied', marketing: 'denied' }, 'no purpose 1, no storage')
  assert.deepEqual(fromTcf({ gdprApplies: false }), {})
})
