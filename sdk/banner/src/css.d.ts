/** The minified stylesheet, inlined by scripts/build.mjs. */
declare const __BANNER_CSS__: string
