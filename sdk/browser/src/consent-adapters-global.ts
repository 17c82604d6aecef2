/** IIFE add-on: `Assent.adapters.followTcf(tracker)` and `Assent.adapters.setGoogleConsent(tracker, params)`. */
import { addToGlobal } from './add-on-global'
import { followTcf, fromGoogleConsentMode, fromTcf, setGoogleConsent } from './consent-adapters'

addToGlobal('adapters', { followTcf, setGoogleConsent, fromTcf, fromGoogleConsentMode })
