/**
 * What the banner says. A language pack is one `BannerTexts`; a site overrides any part of it
 * with the `texts` option (and names its own categories there).
 */

/** A category's name and its one-line purpose, shown beside its switch. */
export type CategoryText = [label: string, purpose: string]

export interface BannerTexts {
  /** First layer: heading and short text. */
  title: string
  body: string
  accept: string
  reject: string
  choose: string
  /** Second layer: heading and the button that records the switches as set. */
  settings: string
  save: string
  close: string
  /** Link text for the `policyUrl` option. */
  policy: string
  /** Beside `necessary`, which has no switch. */
  alwaysOn: string
  /** Shown when the browser sends Global Privacy Control: the signal was applied, not asked for. */
  gpc: string
  /** Shown when the visitor opted out (or a browser signal did it for them). */
  optedOut: string
  /** The persistent entry point that reopens the banner. */
  reopen: string
  categories: Record<string, CategoryText>
}

/** A partial `BannerTexts`, as the `texts` option and add-on packs for partial translations take it. */
export type TextOverrides = Partial<Omit<BannerTexts, 'categories'>> & { categories?: Record<string, CategoryText> }

/** The pack's texts with the site's overrides on top; categories are merged one by one. */
export function mergeTexts(pack: BannerTexts, overrides: TextOverrides = {}): BannerTexts {
  return { ...pack, ...overrides, categories: { ...pack.categories, ...overrides.categories } } as BannerTexts
}

/**
 * The pack to use: the first wanted language (e.g. the page's `lang`, then the browser's) that
 * has a pack, matched on its primary subtag (`fr-CA` → `fr`); English otherwise.
 */
export function pickLanguage(available: string[], wanted: Array<string | null | undefined>): string {
  for (const w of wanted) {
    const primary = (w || '').toLowerCase().split(/[-_]/)[0]
    if (available.includes(primary)) return primary
  }
  return 'en'
}

/** A category's text; a site category without one shows its own name. */
export function categoryText(texts: BannerTexts, category: string): CategoryText {
  return texts.categories[category] || [category.charAt(0).toUpperCase() + category.slice(1), '']
}
