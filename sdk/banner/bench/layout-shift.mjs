// Cumulative Layout Shift caused by the banner, in real Chromium: a page with content (header,
// hero, eight sections of text, footer) loads the tracker and the banner in <head>; a
// `layout-shift` PerformanceObserver, registered before anything else, records every shift.
// Measured over load + the first layer shown (1 s), then after Choose… and Save (1 s each), at
// desktop and phone widths, light and dark. CLS counts shifts without recent input, as the
// metric does; shifts within 500 ms of the visitor's own input are printed apart.
// Also prints the banner's bundle sizes, as `npm run size` does.
import { chromium } from 'playwright-core'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const dist = (f) => readFileSync(new URL(f, import.meta.url))
const tracker = dist('../../browser/dist/assent.min.js')
const banner = dist('../dist/assent-banner.min.js')
const paragraph = 'Our mugs are thrown by hand in a small workshop by the sea. Each glaze is mixed in batches of twelve, so no two are quite alike; the handles are pulled, not moulded.'
const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<script>window.__shifts = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) __shifts.push({ value: e.value, input: e.hadRecentInput }) }).observe({ type: 'layout-shift', buffered: true })</script>
<script src="/assent.min.js"></script><script src="/assent-banner.min.js"></script>
<script>window.a = Assent.init({ writeKey: 'pk_bench', endpoint: location.origin }); AssentBanner.start(a)</script>
<style>body{margin:0;font:17px/1.6 Georgia,serif} header,footer{padding:1rem 2rem;background:#263238;color:#fff} main{max-width:46rem;margin:auto;padding:1rem 2rem} .hero{height:220px;background:#2a9d8f}</style>
</head><body><header>Shop · About · Journal</header><main><h1>Handmade mugs</h1><div class="hero"></div>
${Array.from({ length: 8 }, (_, i) => `<h2>Batch ${i + 1}</h2><p>${paragraph}</p>`).join('')}</main><footer>Footer</footer></body></html>`

const server = createServer((req, res) => {
  const body = { '/': page, '/assent.min.js': tracker, '/assent-banner.min.js': banner }[req.url]
  req.resume()
  if (body) {
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' })
    return res.end(body)
  }
  res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
  res.end('{"accepted":0,"rejected":[],"duplicates":0}')
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const origin = `http://127.0.0.1:${server.address().port}`

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const sum = (shifts, input) => shifts.filter((s) => s.input === input).reduce((t, s) => t + s.value, 0)
const wait = (ms) => new Promise((r) => setTimeout(r, ms))
console.log('banner layout shift, Chromium ' + browser.version())
console.log('viewport         scheme  CLS (load + first layer)  CLS (after Choose…, Save)  shifts right after input')
for (const [name, viewport] of [['desktop 1280x800', { width: 1280, height: 800 }], ['phone 390x844', { width: 390, height: 844 }]])
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport, colorScheme })
    const p = await context.newPage()
    await p.goto(origin + '/')
    await p.locator('assent-banner dialog.first').waitFor()
    await wait(1000)
    const shown = await p.evaluate(() => __shifts)
    await p.locator('assent-banner [data-act=choose]').click()
    await wait(1000)
    await p.locator('assent-banner dialog.second [data-act=save]').click()
    await wait(1000)
    const all = await p.evaluate(() => __shifts)
    console.log(`${name.padEnd(17)}${colorScheme.padEnd(8)}${sum(shown, false).toFixed(4).padEnd(26)}${sum(all, false).toFixed(4).padEnd(27)}${sum(all, true).toFixed(4)}`)
    await context.close()
  }
await browser.close()
server.close()

for (const f of ['assent-banner.min.js', 'assent-banner-de.min.js', 'assent-banner-es.min.js', 'assent-banner-it.min.js', 'assent-banner-nl.min.js']) {
  const min = dist('../dist/' + f)
  console.log(`${f}: ${min.length} B minified, ${gzipSync(min, { level: 9 }).length} B min+gzip`)
}
