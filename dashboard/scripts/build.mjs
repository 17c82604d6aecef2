// Builds dist/: index.html, app.js (Preact, uPlot and the app, one minified bundle) and app.css
// (uPlot's stylesheet and ours). The collector serves dist/ at /dashboard/. `npm run build` then
// runs tsc, which type-checks (strict).
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'

const root = new URL('..', import.meta.url).pathname
rmSync(root + 'dist', { recursive: true, force: true })
mkdirSync(root + 'dist')
await Promise.all([
  build({
    entryPoints: ['src/main.tsx'],
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outfile: 'dist/app.js',
    logLevel: 'warning',
  }),
  build({ entryPoints: ['src/app.css'], absWorkingDir: root, bundle: true, minify: true, outfile: 'dist/app.css', logLevel: 'warning' }),
])
copyFileSync(root + 'src/index.html', root + 'dist/index.html')
copyFileSync(root + 'src/favicon.svg', root + 'dist/favicon.svg')
console.log('built dist/index.html, dist/app.js, dist/app.css')
