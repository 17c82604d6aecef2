/** IIFE add-on: `Assent.adapters.followTcf(tracker)` and `Assent.adapters.setGoogleConsent(tracker, params)`. */
import { followTcf, fromGoogleConsentMode, fromTcf, setGoogleConsent } from './consent-adapters'

const w = window as unknown as { Assent?: Record<string, unknown> }
w.Assent = w.Assent || {}
w.Assent.adapters = { followTcf, setGoogleConsent, fromTcf, fromGoogleConsentMode }
