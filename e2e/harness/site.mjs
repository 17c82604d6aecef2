// The page's own origin: a small static server for fixture pages and the built tracker.
// Pages reach it through hostnames such as www.shop.test (mapped to 127.0.0.1 in Chromium).
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { repoRoot } from './collector.mjs'

/** The IIFE add-on bundle that defines each plugin on `window.Assent`. */
const PLUGIN_BUNDLES = { crossDomain: 'assent-cross-domain', migrateFrom: 'assent-migration', serverId: 'assent-server-id' }

/**
 * Fixture page: loads the IIFE from this origin. `?init=<json>` starts a tracker in <head>
 * (window.a), as a site would; without it the test calls Assent.init itself. Plugins are data
 * in the JSON, `plugins: [[name, options], …]`: the page loads each add-on bundle and passes
 * `Assent[name](options)` to init; `window.plugins[name]` is the plugin made.
 */
function page(url) {
  const init = url.searchParams.get('init')
  const plugins = (init && JSON.parse(init).plugins) || []
  const bundles = plugins.map(([name]) => `<script src="/${PLUGIN_BUNDLES[name]}.min.js"></script>`).join('')
  const start = `const init = ${init}; window.plugins = {}
init.plugins = (init.plugins || []).map(([name, options]) => (window.plugins[name] = Assent[name](options)))
window.a = Assent.init(init)`
  return `<!doctype html><html><head><meta charset="utf-8"><title>Fixture ${url.pathname}</title>
<script src="/assent.min.js"></script>${bundles}
${init ? `<script>${start}</script>` : ''}
</head><body><h1>${url.pathname}</h1><a id="out" href="/elsewhere">next</a></body></html>`
}

export async function startSite(routes = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://' + req.headers.host)
    if (routes[url.pathname]) return routes[url.pathname](req, res, url)
    if (/^\/[\w.-]+\.min\.js$/.test(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      return res.end(readFileSync(repoRoot + '/sdk/browser/dist' + url.pathname))
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    res.end(page(url))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  return {
    port,
    /** URL of a fixture page on a given hostname (mapped to this server by the browser). */
    url: (host, path = '/', init) => `http://${host}:${port}${path}${init ? (path.includes('?') ? '&' : '?') + 'init=' + encodeURIComponent(JSON.stringify(init)) : ''}`,
    stop: () => new Promise((r) => server.close(r)),
  }
}
