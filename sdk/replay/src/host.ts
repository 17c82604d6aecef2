/**
 * What @assent/replay needs from the @assent/browser tracker: its public API only, so the
 * recorder works with any tracker instance on the page and the core bundle stays small.
 */
export interface ConsentView {
  id?: string
  state: Record<string, string>
}

export interface ReplayHost {
  getConsent(): ConsentView
  onConsentChange(callback: (consent: ConsentView) => void): () => void
  isOptedOut(): boolean
  /** The session id events carry now; undefined without `analytics` consent or in an anonymous level. */
  sessionId(): number | undefined
  user(): { id(): string | undefined; anonymousId(): string | undefined }
}
