import type { ConsentStates, ConsentValue } from './consent'

/**
 * Consent from outside sources (Google Consent Mode, an IAB TCF v2.2 CMP), mapped onto our
 * categories and fed to the tracker's public `setConsent`. Kept out of the core bundle: sites
 * without a CMP do not pay for it (ESM: import it; IIFE: load assent-consent-adapters.min.js).
 */
import type { ConsentOptions } from './tracker'

/** The part of a tracker the adapters use. */
interface ConsentTarget {
  setConsent(changes: Partial<ConsentStates>, options?: ConsentOptions): void
}

/** Google Consent Mode v2 parameters (`gtag('consent', 'update', {...})`). */
export interface GoogleConsentParams {
  analytics_storage?: 'granted' | 'denied'
  ad_storage?: 'granted' | 'denied'
  ad_user_data?: 'granted' | 'denied'
  ad_personalization?: 'granted' | 'denied'
  functionality_storage?: 'granted' | 'denied'
  personalization_storage?: 'granted' | 'denied'
}

export function fromGoogleConsentMode(p: GoogleConsentParams): Partial<ConsentStates> {
  const out: Partial<ConsentStates> = {}
  if (p.analytics_storage) out.analytics = p.analytics_storage
  // Marketing covers sharing click ids and cross-site ids: any ad refusal refuses it.
  const ads = [p.ad_storage, p.ad_user_data, p.ad_personalization].filter(Boolean)
  if (ads.length) out.marketing = ads.every((v) => v === 'granted') ? 'granted' : 'denied'
  if (p.functionality_storage) out.functional = p.functionality_storage
  return out
}

/** The part of IAB TCF v2.2's TCData we read. */
export interface TcfData {
  gdprApplies?: boolean
  eventStatus?: string
  purpose?: { consents?: Record<string, boolean> }
}

/**
 * A TCF answer with GDPR in force. Purposes: 1 store/access on a device, 3+4 personalised ads, 5+6 personalised content,
 * 8 measure content performance, 9 market research. `replay` has no TCF purpose that covers
 * recording a visitor's screen, so TCF never grants it.
 */
export function fromTcf(tc: TcfData): Partial<ConsentStates> {
  // Outside the GDPR the CMP asks nothing; the project's own consent mode decides.
  if (tc.gdprApplies === false) return {}
  const p = (tc.purpose && tc.purpose.consents) || {}
  const all = (...ids: number[]): ConsentValue => (ids.every((i) => p[i]) ? 'granted' : 'denied')
  return { analytics: all(1, 8, 9), functional: all(1, 5, 6), marketing: all(1, 3, 4) }
}

/** `gtag('consent', 'update', params)`, for Assent: `setGoogleConsent(tracker, params)`. */
export function setGoogleConsent(tracker: ConsentTarget, params: GoogleConsentParams): void {
  tracker.setConsent(fromGoogleConsentMode(params), { source: 'google' })
}

type TcfApi = (command: string, version: number, callback: (tc: TcfData, ok: boolean) => void) => void

/** Follow the page's CMP: every loaded or changed TCF answer becomes a `setConsent` with source `tcf`. */
export function followTcf(tracker: ConsentTarget, tcfapi: TcfApi | undefined = (window as { __tcfapi?: TcfApi }).__tcfapi): boolean {
  if (typeof tcfapi !== 'function') return false
  tcfapi('addEventListener', 2, (tc, ok) => {
    if (!ok || (tc.eventStatus !== 'tcloaded' && tc.eventStatus !== 'useractioncomplete')) return
    const changes = fromTcf(tc)
    if (Object.keys(changes).length) tracker.setConsent(changes, { source: 'tcf' })
  })
  return true
}
