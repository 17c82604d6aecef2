// What recording costs a busy page, in real Chromium: main-thread time (CDP
// Performance.getMetrics TaskDuration and ScriptDuration) over a fixed window while the page
// rewrites a 300-row table every animation frame (text, attributes, insertions, removals) and
// the mouse moves, with and without @assent/replay recording (`medium` masking, chunks every
// 5 s, compressed and sent to a stand-in collector that answers 200). Median of 5 runs each.
import { chromium } from 'playwright-core'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'

const WINDOW_MS = 5000
const RUNS = 5
const core = readFileSync(new URL('../../browser/dist/assent.min.js', import.meta.url), 'utf8')
const replay = readFileSync(new URL('../dist/assent-replay.min.js', import.meta.url), 'utf8')

const busyPage = `<!doctype html><meta charset="utf-8"><title>busy</title>
<script>${core}</script><script>${replay}</script>
<input id="q" placeholder="search"><table id="t"></table>
<script>
  const t = document.getElementById('t')
  for (let i = 0; i < 300; i++) t.insertRow().innerHTML = '<td>row ' + i + '</td><td class="v">0</td><td><span>x</span></td>'
  let frame = 0
  function tick() {
    frame++
    const rows = t.rows
    for (let i = 0; i < rows.length; i += 3) rows[i].cells[1].textContent = String((frame * 7 + i) % 1000)
    rows[frame % rows.length].className = 'hot' + (frame % 5)
    t.deleteRow(frame % rows.length)
    t.insertRow(frame % rows.length).innerHTML = '<td>new ' + frame + '</td><td class="v">' + frame + '</td><td><span>y</span></td>'
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
</script>`

const collected = { chunks: 0, bytes: 0 }
const server = createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' })
    return res.end(busyPage)
  }
  let n = 0
  req.on('data', (c) => (n += c.length))
  req.on('end', () => {
    if (req.url === '/v1/replay') {
      collected.chunks++
      collected.bytes += n
    }
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
    res.end('{"accepted":1}')
  })
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const origin = `http://127.0.0.1:${server.address().port}`

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})

async function measure(record) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Performance.enable')
  await page.goto(origin + '/')
  await page.evaluate(
    ([record, endpoint]) => {
      const a = Assent.init({ writeKey: 'pk_bench', endpoint })
      a.setConsent({ analytics: 'granted', replay: record ? 'granted' : 'denied' })
      window.r = AssentReplay.start(a, { writeKey: 'pk_bench', endpoint })
    },
    [record, origin],
  )
  await page.waitForTimeout(500)
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]))
  const before = await metric()
  const end = Date.now() + WINDOW_MS
  for (let i = 0; Date.now() < end; i++) await page.mouse.move(100 + (i % 400), 100 + ((i * 7) % 300))
  const after = await metric()
  const recording = await page.evaluate(() => r.stats().recording)
  await page.close()
  if (recording !== record) throw new Error(`expected recording=${record}`)
  const seconds = (after.Timestamp - before.Timestamp) || WINDOW_MS / 1000
  return {
    task: ((after.TaskDuration - before.TaskDuration) / seconds) * 1000,
    script: ((after.ScriptDuration - before.ScriptDuration) / seconds) * 1000,
  }
}

const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1]
const results = { off: [], on: [] }
for (let i = 0; i < RUNS; i++) {
  results.off.push(await measure(false))
  results.on.push(await measure(true))
}
await browser.close()
server.close()

const row = (name, runs) => {
  const task = median(runs.map((r) => r.task))
  const script = median(runs.map((r) => r.script))
  console.log(`${name.padEnd(22)} main-thread ${task.toFixed(1).padStart(6)} ms/s   script ${script.toFixed(1).padStart(6)} ms/s`)
  return { task, script }
}
console.log(`busy page: 300-row table rewritten every frame + mouse moves; ${RUNS} runs of ${WINDOW_MS / 1000} s, median`)
const off = row('without recording', results.off)
const on = row('recording (medium)', results.on)
console.log(`overhead: +${(on.task - off.task).toFixed(1)} ms of main-thread time per second (${(((on.task - off.task) / off.task) * 100).toFixed(0)} %), script +${(on.script - off.script).toFixed(1)} ms/s`)
console.log(`uploaded: ${collected.chunks} chunks, ${(collected.bytes / 1024).toFixed(0)} KB gzip over ${RUNS * WINDOW_MS / 1000} s recorded (${(collected.bytes / 1024 / (RUNS * WINDOW_MS / 1000)).toFixed(1)} KB/s)`)
