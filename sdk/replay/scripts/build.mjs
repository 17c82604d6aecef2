// Builds dist/: the recorder as a minified IIFE (window.AssentReplay) and an ESM module, and
// the playback page's player (rrweb-player) with its stylesheet, served by the collector at
// /sdk/replay/. `npm run build` then runs tsc, which type-checks (strict) and emits the types.
import { build } from 'esbuild'
import { readFileSync, rmSync } from 'node:fs'

const root = new URL('..', import.meta.url).pathname
const { version } = JSON.parse(readFileSync(root + 'package.json', 'utf8'))
const common = { bundle: true, target: 'es2022', define: { __VERSION__: JSON.stringify(version) }, logLevel: 'warning', absWorkingDir: root }

rmSync(root + 'dist', { recursive: true, force: true })
await Promise.all([
  build({ ...common, entryPoints: ['src/global.ts'], format: 'iife', minify: true, outfile: 'dist/assent-replay.min.js' }),
  // @rrweb/record stays an import in the ESM build: the site's bundler resolves and dedupes it.
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', external: ['@rrweb/record'], outfile: 'dist/assent-replay.esm.js' }),
  build({ ...common, entryPoints: ['src/playback.ts'], format: 'iife', minify: true, outfile: 'dist/assent-replay-player.min.js' }),
])
console.log('built dist/assent-replay.min.js, dist/assent-replay.esm.js, dist/assent-replay-player.min.js (+ .css)')
