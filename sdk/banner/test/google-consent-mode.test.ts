import assert from 'node:assert/strict'
import { test } from 'node:test'
import { googleConsent, undecided } from '../src/google-consent-mode'
import type { ConsentView } from '../src/host'

const view = (state: Record<string, string>, mode = 'opt-in'): ConsentView => ({ state, mode, revision: 1, source: 'banner', decided: true })
const ALL_DENIED = {
  analytics_storage: 'denied',
  ad_storage: 'denied',
  ad_user_data: 'denied',
  ad_personalization: 'denied',
  functionality_storage: 'denied',
  personalization_storage: 'denied',
  security_storage: 'granted',
}

test('before any choice, under the opt-in model, Consent Mode is told everything is denied but security', () => {
  const start = view({ necessary: 'granted', analytics: 'pending', functional: 'pending', marketing: 'pending', replay: 'pending' })
  assert.deepEqual(googleConsent(undecided(start, false)), ALL_DENIED)
})

test('each category maps onto its Consent Mode parameters', () => {
  assert.deepEqual(googleConsent(view({ analytics: 'granted', functional: 'denied', marketing: 'denied' })), { ...ALL_DENIED, analytics_storage: 'granted' })
  assert.deepEqual(googleConsent(view({ analytics: 'denied', functional: 'granted', marketing: 'granted' })), {
    ...ALL_DENIED,
    functionality_storage: 'granted',
    personalization_storage: 'granted',
    ad_storage: 'granted',
    ad_user_data: 'granted',
    ad_personalization: 'granted',
  })
})

test('under the opt-out model pending counts as granted, except marketing refused by GPC', () => {
  const start = view({ analytics: 'pending', functional: 'pending', marketing: 'pending' }, 'opt-out')
  const params = googleConsent(undecided(start, true))
  assert.equal(params.analytics_storage, 'granted')
  assert.equal(params.ad_storage, 'denied')
  assert.equal(params.ad_user_data, 'denied')
})

test('a stored choice does not leak into the defaults', () => {
  const stored = view({ analytics: 'granted', marketing: 'granted' })
  assert.equal(googleConsent(undecided(stored, false)).analytics_storage, 'denied')
})
