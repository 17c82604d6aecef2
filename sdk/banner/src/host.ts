/**
 * What the banner needs from the @assent/browser tracker: its public API only, so the banner
 * works with any tracker instance on the page and the core bundle stays as it is.
 */
export type ConsentValue = 'pending' | 'granted' | 'denied'

export interface ConsentView {
  state: Record<string, ConsentValue | string>
  mode: 'opt-in' | 'opt-out' | string
  revision: string | number
  source: string
  /** False until a choice was made under the current policy revision and within the tracker's expiry. */
  decided: boolean
  /** When the choice was made (ms since epoch). */
  timestamp?: number
}

export interface BannerHost {
  getConsent(): ConsentView
  setConsent(changes: Record<string, ConsentValue>, options?: { source?: string }): void
  onConsentChange(callback: (consent: ConsentView) => void): () => void
  isOptedOut(): boolean
  optIn(): void
}
