// Measures the dashboard against a running collector: every panel's API answer as the page
// asks for it (30 timed requests each after 3 warm-ups, one at a time), then the whole page
// loaded and drawn in Chromium (5 loads, signed in once), time from navigation to every panel
// drawn (`<body data-state="ready">`).
//   node bench/dashboard.mjs http://127.0.0.1:8080 <viewer token>
import { chromium } from 'playwright-core'

const [base, token] = process.argv.slice(2)
const auth = { authorization: `Bearer ${token}` }
const PERIODS = ['30d', '90d']

async function timed(path) {
  const t0 = performance.now()
  const res = await fetch(base + path, { headers: auth })
  await res.arrayBuffer()
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
  return performance.now() - t0
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
}

// Right after start: digests are read from their partitions and no day's answer is kept yet.
const cold = await timed('/v1/stats/traffic?period=90d')
console.log(`first answer after start (traffic, 90 days): ${cold.toFixed(0)} ms; then ${(await timed('/v1/stats/top/page?period=90d')).toFixed(0)} ms for top pages`)
const top = await (await fetch(`${base}/v1/stats/top/browser?period=90d`, { headers: auth })).json()
const browser = encodeURIComponent(top.rows[0].value)
const panels = (period) => [
  ['traffic', `/v1/stats/traffic?period=${period}`],
  ['top pages', `/v1/stats/top/page?period=${period}`],
  ['entry pages', `/v1/stats/top/entry_page?period=${period}`],
  ['sources', `/v1/stats/top/source?period=${period}`],
  ['utm campaigns', `/v1/stats/top/utm_campaign?period=${period}`],
  ['browsers', `/v1/stats/top/browser?period=${period}`],
  ['countries', `/v1/stats/top/country?period=${period}`],
  ['custom events', `/v1/stats/top/event?period=${period}`],
  ['event properties', `/v1/stats/properties?period=${period}&event=Order%20Completed`],
  ['funnel (4 steps)', `/v1/stats/funnel?period=${period}&step=page:/&step=page:/products&step=page:/cart&step=event:Order%20Completed`],
  ['consent', `/v1/stats/consent?period=${period}`],
  ['privacy', `/v1/stats/privacy?period=${period}`],
  ['traffic, filtered by browser', `/v1/stats/traffic?period=${period}&browser=${browser}`],
  ['top pages, filtered by country and source', `/v1/stats/top/page?period=${period}&country=FR&source=Google`],
]
let worst = 0
for (const period of PERIODS) {
  console.log(`\nAPI, period=${period}: p50 / p95 / max of 30 requests (ms)`)
  for (const [name, path] of panels(period)) {
    for (let i = 0; i < 3; i++) await timed(path)
    const times = []
    for (let i = 0; i < 30; i++) times.push(await timed(path))
    const p95 = quantile(times, 0.95)
    worst = Math.max(worst, p95)
    console.log(`  ${name.padEnd(44)} ${quantile(times, 0.5).toFixed(1).padStart(7)} ${p95.toFixed(1).padStart(7)} ${Math.max(...times).toFixed(1).padStart(7)}`)
  }
}
console.log(`\nslowest panel p95: ${worst.toFixed(1)} ms`)

// A filter never asked before: its answers are computed from the digests, then kept.
const countries = (await (await fetch(`${base}/v1/stats/top/country?period=90d&limit=12`, { headers: auth })).json()).rows.map((r) => r.value)
const firsts = []
for (const country of countries) {
  for (const path of ['traffic', 'top/page', 'top/source', 'consent']) {
    firsts.push(await timed(`/v1/stats/${path}?period=90d&country=${encodeURIComponent(country)}&device=Mobile`))
  }
}
console.log(`first answers of new filters (${firsts.length}: ${countries.length} countries × 4 panels, 90 days): p50 ${quantile(firsts, 0.5).toFixed(1)} ms, p95 ${quantile(firsts, 0.95).toFixed(1)} ms, max ${Math.max(...firsts).toFixed(1)} ms`)

const browserApp = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
const page = await browserApp.newPage({ viewport: { width: 1280, height: 900 } })
await page.goto(`${base}/dashboard/`)
await page.fill('#token', token)
await page.click('button[type=submit]')
await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 })
for (const period of PERIODS) {
  const loads = []
  for (let i = 0; i < 5; i++) {
    await page.goto('about:blank')
    const t0 = Date.now()
    await page.goto(`${base}/dashboard/#period=${period}`)
    await page.waitForSelector('#panels')
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('[aria-busy=true]').length === 0, null, { timeout: 60_000 })
    loads.push(Date.now() - t0)
  }
  console.log(`Chromium, period=${period}: dashboard loaded and drawn in ${loads.join(', ')} ms (median ${quantile(loads, 0.5)} ms)`)
}
await browserApp.close()
