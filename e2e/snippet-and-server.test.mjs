// The async snippet queues calls made before the script arrives; the collector serves the build.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { repoRoot } from './harness/collector.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const slowScript = (req, res) => {
  // The tracker arrives late, as it would from a slow CDN.
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/javascript' })
    res.end(readFileSync(repoRoot + '/sdk/browser/dist/assent.min.js'))
  }, 700)
}

const snippetPage = (req, res, url) => {
  const snippet = readFileSync(repoRoot + '/sdk/browser/dist/snippet.min.js', 'utf8').replace('https://YOUR-COLLECTOR/sdk/assent.min.js', '/slow/assent.min.js')
  const config = url.searchParams.get('config')
  res.writeHead(200, { 'content-type': 'text/html' })
  res.end(`<!doctype html><html><head><script>${snippet}</script><script>
    window.a = Assent.init(${config})
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.identify('user-snippet')
    a.track('sn early 1')
    a.track('sn early 2')
    window.loadedEarly = typeof a.getConsent
  </script></head><body>snippet</body></html>`)
}

// A page that loads the tracker from the collector itself, with no endpoint configured.
const collectorScriptPage = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' })
  res.end(`<!doctype html><script src="${env.collector.url}/sdk/assent.min.js"></script><script>window.a = Assent.init({ writeKey: 'pk_demo' })</script>`)
}

const env = setup({ routes: { '/slow/assent.min.js': slowScript, '/snippet': snippetPage, '/plain': collectorScriptPage } })

test('calls made before the script loads are replayed in order, and the stub keeps working', async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.goto(`http://www.shop.test:${env.site.port}/snippet?config=${encodeURIComponent(JSON.stringify(env.config()))}`)
  assert.equal(await page.evaluate(() => window.loadedEarly), 'undefined', 'the page ran before the tracker arrived')
  await page.waitForFunction(() => typeof a.getConsent === 'function')
  await page.evaluate(async () => {
    a.track('sn late')
    await a.flush()
  })
  const rows = await env.collector.waitFor((r) => r.length === 3, `event like 'sn %'`)
  rows.sort((x, y) => x.sequence - y.sequence)
  assert.deepEqual(rows.map((r) => r.event), ['sn early 1', 'sn early 2', 'sn late'])
  for (const r of rows) assert.equal(r.user_id, 'user-snippet')
  await sleep(50)
  await context.close()
})

test('the collector serves the IIFE at /sdk/assent.min.js', async () => {
  const res = await fetch(env.collector.url + '/sdk/assent.min.js')
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /javascript/)
  assert.equal(await res.text(), readFileSync(repoRoot + '/sdk/browser/dist/assent.min.js', 'utf8'))
})

test('a page using the collector-served script defaults its endpoint to the collector', async () => {
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.goto(`http://www.shop.test:${env.site.port}/plain`)
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.track('sn default endpoint')
    await a.flush()
  })
  await env.collector.waitFor((r) => r.length === 1, `event = 'sn default endpoint'`)
  await context.close()
})
