// Builds dist/: the minified IIFE (window.Assent), the ESM module, the IIFE add-ons and the snippet.
// `npm run build` then runs tsc, which type-checks (strict) and emits dist/types/*.d.ts.
import { build } from 'esbuild'
import { readFileSync, rmSync } from 'node:fs'

const root = new URL('..', import.meta.url).pathname
const { version } = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
const common = { bundle: true, target: 'es2022', define: { __VERSION__: JSON.stringify(version) }, logLevel: 'warning', absWorkingDir: root }

rmSync(root + 'dist', { recursive: true, force: true })
await Promise.all([
  build({ ...common, entryPoints: ['src/global.ts'], format: 'iife', minify: true, outfile: 'dist/assent.min.js' }),
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/assent.esm.js' }),
  build({ ...common, entryPoints: ['src/consent-adapters-global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-consent-adapters.min.js' }),
  build({ ...common, entryPoints: ['src/cross-domain-global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-cross-domain.min.js' }),
  build({ ...common, entryPoints: ['src/migration-global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-migration.min.js' }),
  build({ ...common, entryPoints: ['src/server-id-global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-server-id.min.js' }),
  build({ ...common, entryPoints: ['snippet.js'], bundle: false, minify: true, outfile: 'dist/snippet.min.js' }),
])
console.log('built dist/assent.min.js, dist/assent.esm.js, the add-ons dist/assent-{consent-adapters,cross-domain,migration,server-id}.min.js, dist/snippet.min.js')
