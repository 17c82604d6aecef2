// The trackers Assent is a drop-in for, installed from npm (root devDependencies) and bundled
// with esbuild into one script each, as a site's own build would, served from the page's origin.
import { build } from 'esbuild'
import { repoRoot } from './collector.mjs'

const ENTRIES = {
  segment: `import { AnalyticsBrowser } from '@segment/analytics-next'; window.AnalyticsBrowser = AnalyticsBrowser`,
  amplitude: `import * as amplitude from '@amplitude/analytics-browser'; window.amplitude = amplitude`,
  snowplow: `import * as snowplow from '@snowplow/browser-tracker'; window.snowplow = snowplow`,
}

const bundles = new Map()

/** The tracker's browser bundle (IIFE defining one global), built once per process. */
export function bundle(name) {
  if (!bundles.has(name)) {
    bundles.set(
      name,
      build({
        stdin: { contents: ENTRIES[name], resolveDir: repoRoot, loader: 'js' },
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2020',
        write: false,
        logLevel: 'silent',
        define: { 'process.env.NODE_ENV': '"production"' },
      }).then((r) => r.outputFiles[0].text),
    )
  }
  return bundles.get(name)
}

/** Site routes: `/peer/<name>.js` (the bundle) and `/peer/<name>` (an empty page loading it). */
export function peerRoutes(name) {
  return {
    [`/peer/${name}.js`]: async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      res.end(await bundle(name))
    },
    [`/peer/${name}`]: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${name} fixture</title>
<script src="/peer/${name}.js"></script></head><body><h1>${name}</h1></body></html>`)
    },
  }
}

/**
 * Every request the browser context makes to a host other than the page's and the local
 * collector's: a tracker reaching for its vendor's CDN or telemetry shows up here.
 */
export function recordEscapes(context, allowedHosts) {
  const escapes = []
  context.on('request', (req) => {
    const url = new URL(req.url())
    if (url.protocol === 'data:' || url.protocol === 'blob:') return
    if (!allowedHosts.some((h) => url.host === h || url.hostname === h)) escapes.push(req.url())
  })
  return escapes
}
