// What one track() call costs the host page, in real Chromium: median µs per call over
// 10 000 calls (100 rounds of 100; Chromium coarsens performance.now(), so single calls are
// timed in rounds). Consent granted, storage on: the full path of an identified event.
// The collector stand-in answers 200 so the queue drains as on a real site.
import { chromium } from 'playwright-core'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'

const iife = readFileSync(new URL('../dist/assent.min.js', import.meta.url), 'utf8')
const server = createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' })
    return res.end(`<!doctype html><script>${iife}</script>`)
  }
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
    res.end('{"accepted":0,"rejected":[],"duplicates":0}')
  })
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const origin = `http://127.0.0.1:${server.address().port}`

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const page = await browser.newPage()
await page.goto(origin + '/')
const result = await page.evaluate(async (endpoint) => {
  const a = Assent.init({ writeKey: 'pk_bench', endpoint })
  a.setConsent({ analytics: 'granted' })
  const props = { sku: 'MUG-01', price: 12, currency: 'EUR', list: 'home' }
  for (let i = 0; i < 1000; i++) a.track('warm up', props)
  await a.flush()
  const perCall = []
  for (let round = 0; round < 100; round++) {
    const t0 = performance.now()
    for (let i = 0; i < 100; i++) a.track('Product Viewed', props)
    perCall.push(((performance.now() - t0) * 1000) / 100)
    // Let the page breathe between rounds, as between real user actions (persistence, sending).
    await new Promise((r) => setTimeout(r, 0))
  }
  await a.flush()
  perCall.sort((x, y) => x - y)
  return { median: perCall[50], p90: perCall[90], min: perCall[0] }
}, origin)
console.log(`track() cost in Chromium ${browser.version()}: median ${result.median.toFixed(1)} µs per call over 10000 calls (p90 ${result.p90.toFixed(1)} µs, best round ${result.min.toFixed(1)} µs)`)
await browser.close()
server.close()
