// Builds dist/: the banner as a minified IIFE (window.AssentBanner, English and French built in),
// an ESM module, and one add-on IIFE per other language (assent-banner-<lang>.min.js) plus its
// ESM (lang/<lang>.js). The stylesheet, src/banner.css, is minified by esbuild and inlined.
// `npm run build` then runs tsc, which type-checks (strict) and emits the types.
import { build } from 'esbuild'
import { readFileSync, rmSync } from 'node:fs'

const root = new URL('..', import.meta.url).pathname
const { version } = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
export const ADD_ON_LANGUAGES = ['de', 'es', 'it', 'nl']

rmSync(root + 'dist', { recursive: true, force: true })
const css = await build({ entryPoints: ['src/banner.css'], absWorkingDir: root, bundle: true, minify: true, write: false, logLevel: 'warning' })
const common = {
  bundle: true,
  target: 'es2022',
  define: { __VERSION__: JSON.stringify(version), __BANNER_CSS__: JSON.stringify(css.outputFiles[0].text.trim()) },
  logLevel: 'warning',
  absWorkingDir: root,
}
const addOn = (lang) =>
  `import pack from './src/lang/${lang}'\nconst b = (window.AssentBanner = window.AssentBanner || {})\n;(b.languages = b.languages || {}).${lang} = pack`
await Promise.all([
  build({ ...common, entryPoints: ['src/global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-banner.min.js' }),
  // The tracker stays an import in the ESM build: the site's bundler resolves it once.
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', external: ['@assent/browser'], outfile: 'dist/assent-banner.esm.js' }),
  ...ADD_ON_LANGUAGES.flatMap((lang) => [
    build({ ...common, stdin: { contents: addOn(lang), resolveDir: root, loader: 'ts' }, format: 'iife', minify: true, outfile: `dist/assent-banner-${lang}.min.js` }),
    build({ ...common, entryPoints: [`src/lang/${lang}.ts`], format: 'esm', outfile: `dist/lang/${lang}.js` }),
  ]),
])
console.log(`built dist/assent-banner.min.js, dist/assent-banner.esm.js, add-on languages ${ADD_ON_LANGUAGES.join(', ')}`)
