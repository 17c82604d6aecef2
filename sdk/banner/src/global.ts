/**
 * The IIFE entry: `window.AssentBanner.start(tracker, options)`, next to `window.Assent`.
 * Language add-on packs (assent-banner-de.min.js, …) put themselves in
 * `AssentBanner.languages`, before or after this script.
 */
import { createBanner } from './banner'
import type { BannerHost } from './host'
import en from './lang/en'
import fr from './lang/fr'
import type { BannerOptions } from './options'
import type { BannerTexts } from './texts'

declare const __VERSION__: string

const w = window as unknown as { AssentBanner?: { languages?: Record<string, BannerTexts> } }
const global = (w.AssentBanner = w.AssentBanner || {}) as Record<string, unknown> & { languages: Record<string, BannerTexts> }
global.languages = { en, fr, ...global.languages }
global.version = __VERSION__
global.start = (tracker: BannerHost, options?: BannerOptions) => createBanner(tracker, options || {}, global.languages)
