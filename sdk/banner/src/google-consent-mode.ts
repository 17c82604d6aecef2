/**
 * Google Consent Mode v2: what `gtag('consent', …)` is told, mapped from Assent's categories.
 *
 * | Consent Mode parameter                   | from              |
 * |------------------------------------------|-------------------|
 * | analytics_storage                        | analytics         |
 * | ad_storage, ad_user_data, ad_personalization | marketing     |
 * | functionality_storage, personalization_storage | functional  |
 * | security_storage                         | always granted (necessary) |
 *
 * `replay` has no Consent Mode parameter. A category is granted when the tracker allows it:
 * granted, or pending under the opt-out model.
 */
import type { ConsentView } from './host'

export type GoogleConsentValue = 'granted' | 'denied'
export type GoogleConsentParams = Record<string, GoogleConsentValue>

const MAPPING: Record<string, string[]> = {
  analytics: ['analytics_storage'],
  marketing: ['ad_storage', 'ad_user_data', 'ad_personalization'],
  functional: ['functionality_storage', 'personalization_storage'],
}

export function googleConsent(consent: Pick<ConsentView, 'state' | 'mode'>): GoogleConsentParams {
  const out: GoogleConsentParams = {}
  for (const [category, params] of Object.entries(MAPPING)) {
    const v = consent.state[category]
    const allowed = v === 'granted' || (v === 'pending' && consent.mode === 'opt-out')
    for (const p of params) out[p] = allowed ? 'granted' : 'denied'
  }
  out.security_storage = 'granted'
  return out
}

/**
 * The state Consent Mode starts from on every page, before any stored choice is applied: what a
 * visitor who never chose has (every category pending, marketing refused under GPC).
 */
export function undecided(consent: ConsentView, gpc: boolean): Pick<ConsentView, 'state' | 'mode'> {
  const state: Record<string, string> = {}
  for (const c of Object.keys(consent.state)) state[c] = c === 'marketing' && gpc ? 'denied' : 'pending'
  return { state, mode: consent.mode }
}
