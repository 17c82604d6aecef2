/**
 * @assent/banner — the consent banner for the Assent tracker.
 *
 *   import { init } from '@assent/browser'
 *   import { startBanner } from '@assent/banner'
 *   const assent = init({ writeKey: 'pk_…', consent: { revision: '2026-11' } })
 *   startBanner(assent, { policyUrl: '/privacy' })
 */
import { Banner, createBanner } from './banner'
import type { BannerHost } from './host'
import en from './lang/en'
import fr from './lang/fr'
import type { BannerOptions } from './options'

export type { Banner } from './banner'
export type { Lifetime } from './choice'
export { CNIL_LIFETIME } from './choice'
export type { GoogleConsentParams } from './google-consent-mode'
export { googleConsent } from './google-consent-mode'
export type { BannerHost, ConsentView } from './host'
export type { BannerOptions } from './options'
export type { BannerTexts, CategoryText, TextOverrides } from './texts'
export { en, fr }

/** Shows the banner when the visitor has a choice to make, and wires every control to `tracker`. */
export function startBanner(tracker: BannerHost, options: BannerOptions = {}): Banner {
  return createBanner(tracker, options, { en, fr })
}

export const version: string = __VERSION__

declare const __VERSION__: string
