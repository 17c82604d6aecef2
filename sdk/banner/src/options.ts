import type { Lifetime } from './choice'
import { CNIL_LIFETIME } from './choice'
import type { BannerTexts, TextOverrides } from './texts'

export interface BannerOptions {
  /** Language of the texts; default: the page's `<html lang>`, then the browser's languages, then English. */
  lang?: string
  /** Language packs beyond the built-in `en` and `fr` (ESM: `import de from '@assent/banner/lang/de'`). */
  languages?: Record<string, BannerTexts>
  /** Any text of the chosen language replaced, and the names and purposes of the site's own categories. */
  texts?: TextOverrides
  /** The categories that get a switch, in this order; default: every category of the tracker but `necessary`. */
  categories?: string[]
  /** Your privacy policy, linked from the first layer. */
  policyUrl?: string
  /** Days before a choice is asked again: a refusal 182 (6 months), an acceptance 395 (13 months), after CNIL. */
  lifetimeDays?: Partial<Lifetime>
  /** The floating "Privacy choices" button once the banner is closed (default true). Any element with `data-assent-privacy-choices` reopens it too. */
  button?: boolean
  /** Tell Google Consent Mode v2 (`gtag`) the defaults and every choice (default true; only when `gtag` is on the page). */
  googleConsentMode?: boolean
  /** When an IAB TCF v2.2 CMP is on the page (`__tcfapi`), follow it instead of asking (default true). */
  tcf?: boolean
  /** Honour Global Privacy Control: never ask for `marketing`, say the signal was applied (default true). */
  respectGPC?: boolean
}

export interface ResolvedBannerOptions {
  lang?: string
  languages: Record<string, BannerTexts>
  texts: TextOverrides
  categories?: string[]
  policyUrl?: string
  lifetime: Lifetime
  button: boolean
  googleConsentMode: boolean
  tcf: boolean
  respectGPC: boolean
}

export function resolveOptions(o: BannerOptions, builtIn: Record<string, BannerTexts>): ResolvedBannerOptions {
  return {
    lang: o.lang,
    languages: { ...builtIn, ...o.languages },
    texts: o.texts || {},
    categories: o.categories,
    policyUrl: o.policyUrl,
    lifetime: { ...CNIL_LIFETIME, ...o.lifetimeDays },
    button: o.button !== false,
    googleConsentMode: o.googleConsentMode !== false,
    tcf: o.tcf !== false,
    respectGPC: o.respectGPC !== false,
  }
}
