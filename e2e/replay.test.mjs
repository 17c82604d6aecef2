// Session replay in real Chromium against the real collector: consent gating,
// sampling, withdrawal, opt-out, anonymous tracking, masking of typed text, pagehide flush and
// playback. Every replay body that leaves the browser is captured on the wire and inflated.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { repoRoot } from './harness/collector.mjs'
import { startFaultProxy } from './harness/fault-proxy.mjs'
import { setup, sleep, WRITE_KEY } from './harness/fixture.mjs'

const ADMIN_TOKEN = 'sk_demo'

/** The fixture: a checkout-like form; `?cfg=` says how the tracker and the recorder start. */
function replayPage(req, res, url) {
  const cfg = url.searchParams.get('cfg') || '{}'
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Replay fixture</title>
<script src="/assent.min.js"></script><script src="/assent-replay.min.js"></script>
<script>
  const cfg = ${cfg}
  window.a = Assent.init(cfg.tracker)
  // As a banner would: ask only while the visitor has not decided.
  if (cfg.consent && !a.getConsent().decided) a.setConsent(cfg.consent)
  window.r = AssentReplay.start(a, cfg.replay)
</script></head>
<body>
  <h1 id="title">Checkout KNOWNHEADLINE</h1>
  <p id="copy">Paragraphtextvisible</p>
  <form onsubmit="return false">
    <input id="name" name="fullname">
    <textarea id="notes" name="notes"></textarea>
    <input id="pw" type="password" name="secret">
    <input id="card" name="cardnumber" autocomplete="cc-number" inputmode="numeric">
    <div id="editor" contenteditable="true"></div>
    <div class="ast-unmask" id="open">
      <input id="open-text" name="nickname">
      <input id="open-pw" type="password">
      <input id="open-card" name="cc" autocomplete="cc-number">
    </div>
    <input type="hidden" name="csrf" value="HIDDENTOKENVALUE">
  </form>
  <div class="ast-block">BLOCKEDREGIONTEXT</div>
  <a id="next" href="/replay-next${url.search}">next</a>
</body></html>`)
}

function asset(file) {
  return (req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
    res.end(readFileSync(join(repoRoot, file)))
  }
}

const env = setup({
  routes: {
    '/replay-page': replayPage,
    '/replay-next': replayPage,
    '/assent-replay.min.js': asset('sdk/replay/dist/assent-replay.min.js'),
  },
})

// Tracker and recorder talk to the collector through a passing proxy that logs every body:
// Playwright does not report keepalive requests sent while a page unloads, the proxy sees them.
// Started on first use: the harness's own `before` (the collector) must have run.
let proxy
async function startProxy() {
  proxy ||= await startFaultProxy(env.collector.url, () => 'pass')
}
after(() => proxy?.stop())

const inflate = (url, raw) => (url.endsWith('/v1/replay') && raw.length ? JSON.parse(gunzipSync(raw).toString()) : undefined)

/**
 * What leaves the browser: every request Playwright sees (any host), and every body that
 * reached the collector through the proxy. Replay bodies are inflated.
 */
function wire(context) {
  const requests = []
  const from = proxy.log.length
  context.on('request', (req) => {
    const raw = req.postDataBuffer() || Buffer.alloc(0)
    requests.push({ url: req.url(), raw, chunk: inflate(req.url(), raw) })
  })
  const arrived = () => proxy.log.slice(from).map((e) => ({ url: e.url, at: e.at, raw: e.raw, chunk: inflate(e.url, e.raw) }))
  return {
    /** Replay chunks that reached the collector. */
    replays: () => arrived().filter((r) => r.chunk),
    /** All bytes that left, raw and (for gzip bodies) inflated, as text. */
    text: () =>
      requests
        .concat(arrived())
        .map((r) => r.url + '\n' + r.raw.toString('latin1') + (r.chunk ? JSON.stringify(r.chunk) : ''))
        .join('\n'),
  }
}

async function open({ tracker = {}, consent, replay = {}, path = '/replay-page' } = {}) {
  await startProxy()
  const context = await env.browser.newContext()
  const seen = wire(context)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e))
  const url = replayUrl({ tracker, consent, replay }, path)
  await page.goto(url)
  return { context, page, seen, errors, url }
}

function replayUrl({ tracker = {}, consent, replay = {} }, path = '/replay-page') {
  const cfg = {
    tracker: { ...env.config(tracker), endpoint: proxy.url },
    consent,
    replay: { writeKey: WRITE_KEY, endpoint: proxy.url, flushIntervalMs: 300, ...replay },
  }
  return env.site.url('www.shop.test', path) + '?cfg=' + encodeURIComponent(JSON.stringify(cfg))
}

/** Chunks in replays.db, inflated. */
function storedChunks(where = '1=1') {
  const db = join(env.collector.dataDir, 'replays.db')
  const out = execFileSync('/usr/bin/sqlite3', ['-json', db, `select session_id, seq, anonymous_id, hex(data) as data from replay_chunks where ${where} order by session_id, seq`], { encoding: 'utf8' }).trim()
  return (out ? JSON.parse(out) : []).map((r) => ({ ...r, chunk: JSON.parse(gunzipSync(Buffer.from(r.data, 'hex')).toString()) }))
}

async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(50)
  }
}

const ALL = { analytics: 'granted', replay: 'granted' }
const recording = (page) => page.evaluate(() => r.stats().recording)

test('nothing is recorded before replay consent; granting it starts recording', async () => {
  const { page, seen, context } = await open({ consent: { analytics: 'granted' } })
  await page.fill('#name', 'typed before consent')
  await page.click('#title')
  await sleep(1200)
  assert.equal(await recording(page), false)
  assert.equal(seen.replays().length, 0, 'no replay request before consent')

  await page.evaluate(() => a.setConsent({ replay: 'granted' }))
  assert.equal(await recording(page), true)
  await until(() => seen.replays().length > 0, 'a replay chunk after consent')
  const [first] = seen.replays()
  assert.equal(first.chunk.consent.state.replay, 'granted')
  assert.equal(first.chunk.sessionId, await page.evaluate(() => a.sessionId()))
  assert.ok(first.chunk.events.some((e) => e.type === 2), 'the first chunk holds a full snapshot')
  await until(() => storedChunks().length > 0, 'a stored chunk')
  await context.close()
})

test('sampleRate 0 never records; the sampling decision holds on every page of a session', async () => {
  const none = await open({ consent: ALL, replay: { sampleRate: 0 } })
  await none.page.fill('#name', 'x')
  await sleep(800)
  assert.equal(await recording(none.page), false)
  assert.equal(none.seen.replays().length, 0)
  await none.context.close()

  const outcomes = new Set()
  for (let visitor = 0; visitor < 16 && outcomes.size < 2; visitor++) {
    const { page, context, seen } = await open({ consent: ALL, replay: { sampleRate: 0.5 } })
    const first = await recording(page)
    const session = await page.evaluate(() => a.sessionId())
    for (let n = 0; n < 2; n++) {
      await page.click('#next')
      await page.waitForURL(/replay-next/)
      assert.equal(await page.evaluate(() => a.sessionId()), session, 'same session on the next page')
      assert.equal(await recording(page), first, `visitor ${visitor}: the decision is kept across pages`)
    }
    if (!first) {
      await sleep(500)
      assert.equal(seen.replays().length, 0, 'an unsampled session sends nothing')
    }
    outcomes.add(first)
    await context.close()
  }
  assert.equal(outcomes.size, 2, 'at 0.5 some sessions are recorded and some are not')
})

test('withdrawing replay stops at once and discards the unsent buffer', async () => {
  const { page, seen, context } = await open({ consent: ALL, replay: { flushIntervalMs: 60_000 } })
  await page.evaluate(() => r.flush())
  await until(() => seen.replays().length > 0, 'the first chunk')
  await sleep(300)
  // Typed into the unmasked region, so it would be in the next chunk if one were sent.
  await page.fill('#open-text', 'WITHDRAWNBUFFERTEXT')
  await page.click('#title')
  const before = seen.replays().length
  const withdrawnAt = Date.now()
  await page.evaluate(() => a.setConsent({ replay: 'denied' }))
  assert.equal(await recording(page), false)
  await page.fill('#open-text', 'AFTERWITHDRAWAL')
  await page.evaluate(() => r.flush())
  await page.click('#next') // pagehide: the recorder's exit flush must have nothing to send
  await page.waitForURL(/replay-next/)
  await sleep(800)
  assert.equal(seen.replays().length, before, 'no replay request after the withdrawal')
  assert.ok(seen.replays().every((r) => r.at < withdrawnAt))
  assert.ok(!seen.text().includes('WITHDRAWNBUFFERTEXT'))
  assert.ok(!JSON.stringify(storedChunks()).includes('WITHDRAWNBUFFERTEXT'))
  // On the next page the choice stands: no recording.
  assert.equal(await recording(page), false)
  await context.close()
})

test('opting out stops recording and discards the buffer', async () => {
  const { page, seen, context } = await open({ consent: ALL, replay: { flushIntervalMs: 60_000 } })
  await page.evaluate(() => r.flush())
  await until(() => seen.replays().length > 0, 'the first chunk')
  await page.fill('#open-text', 'OPTOUTBUFFERTEXT')
  const before = seen.replays().length
  await page.evaluate(() => a.optOut())
  assert.equal(await recording(page), false)
  await page.click('#next')
  await page.waitForURL(/replay-next/)
  await sleep(800)
  assert.equal(seen.replays().length, before)
  assert.ok(!seen.text().includes('OPTOUTBUFFERTEXT'))
  assert.equal(await recording(page), false)
  await context.close()
})

test('anonymous tracking never records, from the start or when switched on mid-session', async () => {
  for (const level of ['full', 'session', 'server']) {
    const { page, seen, context } = await open({ tracker: { anonymous: level }, consent: ALL })
    await page.fill('#open-text', 'ANONYMOUSTEXT')
    await sleep(800)
    assert.equal(await recording(page), false, level)
    assert.equal(seen.replays().length, 0, level)
    await context.close()
  }

  const { page, seen, context } = await open({ consent: ALL, replay: { flushIntervalMs: 60_000 } })
  assert.equal(await recording(page), true)
  await page.evaluate(() => r.flush())
  await until(() => seen.replays().length > 0, 'the first chunk')
  const before = seen.replays().length
  await page.evaluate(() => a.enableAnonymous('full'))
  await page.fill('#open-text', 'ANONYMOUSMIDSESSION')
  await page.evaluate(() => r.flush())
  await page.mouse.move(10, 10)
  await sleep(1200)
  await page.mouse.move(50, 50)
  assert.equal(await recording(page), false)
  await page.click('#next')
  await sleep(500)
  assert.equal(seen.replays().length, before, 'nothing sent once anonymous')
  assert.ok(!seen.text().includes('ANONYMOUSMIDSESSION'))
  await context.close()
})

test('the buffer leaves on pagehide, in a keepalive request', async () => {
  const { page, seen, context } = await open({ consent: ALL, replay: { flushIntervalMs: 60_000 } })
  await page.fill('#open-text', 'PAGEHIDEFLUSHTEXT')
  await page.click('#title')
  assert.equal(seen.replays().length, 0, 'nothing sent before the page goes')
  await page.goto(env.site.url('www.shop.test', '/elsewhere'))
  await until(() => seen.text().includes('PAGEHIDEFLUSHTEXT'), 'the pagehide chunk at the collector')
  await until(() => JSON.stringify(storedChunks()).includes('PAGEHIDEFLUSHTEXT'), 'the pagehide chunk in replays.db')
  await context.close()
})

test('the pages of one session make one replay, each page its own chunks', async () => {
  const { page, context } = await open({ consent: ALL })
  const session = await page.evaluate(() => a.sessionId())
  await page.evaluate(() => r.flush())
  await page.click('#next')
  await page.waitForURL(/replay-next/)
  await page.fill('#open-text', 'SECONDPAGETEXT')
  await page.click('#title')
  await page.evaluate(() => r.flush())
  const chunks = await until(() => {
    const rows = storedChunks(`session_id = ${session}`)
    return JSON.stringify(rows).includes('SECONDPAGETEXT') && rows
  }, 'chunks of both pages')
  const snapshots = chunks.flatMap((c) => c.chunk.events.filter((e) => e.type === 4).map((e) => e.data.href))
  assert.ok(snapshots.some((h) => h.includes('/replay-page')) && snapshots.some((h) => h.includes('/replay-next')), 'both pages are in the replay')
  const seqs = chunks.map((c) => c.seq)
  assert.equal(new Set(seqs).size, seqs.length, 'no chunk was taken for a retry of another page\'s')
  await context.close()
})

/** Which typed values each level must keep from leaving the browser, and which it records. */
const LEVELS = {
  light: { hidden: ['pw', 'card', 'open-pw', 'open-card'], shown: ['name', 'notes', 'editor', 'open-text'] },
  medium: { hidden: ['name', 'notes', 'pw', 'card', 'editor', 'open-pw', 'open-card'], shown: ['open-text'] },
  conservative: { hidden: ['name', 'notes', 'pw', 'card', 'editor', 'open-pw', 'open-card'], shown: ['open-text'] },
}

for (const [level, { hidden, shown }] of Object.entries(LEVELS)) {
  test(`typed secrets never leave the browser (maskLevel ${level})`, async () => {
    const { page, seen, context } = await open({ consent: ALL, replay: { maskLevel: level } })
    await until(() => seen.replays().length > 0, 'the first chunk')
    const session = await page.evaluate(() => a.sessionId())
    const secret = (field) => `SECRET${level.toUpperCase()}${field.replace('-', '').toUpperCase()}XYZZY`
    for (const field of [...hidden, ...shown]) {
      await page.click('#' + field)
      await page.keyboard.type(secret(field), { delay: 2 })
    }
    await page.click('#title')
    await page.evaluate(() => r.flush())
    await page.click('#next') // and the pagehide flush
    await page.waitForURL(/replay-next/)
    const stored = await until(() => {
      const text = JSON.stringify(storedChunks(`session_id = ${session}`))
      return shown.every((f) => text.includes(secret(f))) && text
    }, 'the values this level records')

    const left = seen.text()
    const everything = JSON.stringify(storedChunks())
    for (const field of hidden) {
      assert.ok(!left.includes(secret(field)), `${level}: #${field} left the browser`)
      assert.ok(!everything.includes(secret(field)), `${level}: #${field} is stored`)
    }
    for (const field of shown) assert.ok(left.includes(secret(field)), `${level}: #${field} is seen on the wire too`)
    for (const text of ['HIDDENTOKENVALUE', 'BLOCKEDREGIONTEXT']) assert.ok(!stored.includes(text), `${level}: ${text}`)
    // Page text is masked only by the conservative level.
    assert.equal(stored.includes('Paragraphtextvisible'), level !== 'conservative', `${level}: page text`)
    await context.close()
  })
}

test('the playback page lists the session and plays it back with the rrweb player', async () => {
  const { page, seen, context } = await open({ consent: ALL })
  await page.fill('#open-text', 'PLAYBACKVISIBLE')
  await page.evaluate(() => r.flush())
  const session = await page.evaluate(() => a.sessionId())
  await until(() => storedChunks(`session_id = ${session}`).length > 0, 'the stored chunk')
  await context.close()
  assert.ok(seen.replays().length > 0)

  const adminContext = await env.browser.newContext({ viewport: { width: 1280, height: 900 } })
  const admin = await adminContext.newPage()
  const errors = []
  admin.on('pageerror', (e) => errors.push(e))
  await admin.goto(env.collector.url + '/replay/')
  await admin.fill('#token', 'pk_demo')
  await admin.click('#login button')
  await admin.waitForSelector('#login .error')
  await admin.fill('#token', ADMIN_TOKEN)
  await admin.click('#login button')
  const button = admin.locator(`button[data-session="${session}"]`)
  await button.waitFor()
  await button.click()
  const frame = admin.locator('#player iframe')
  await frame.waitFor()
  await admin.waitForFunction(() => {
    const doc = document.querySelector('#player iframe')?.contentDocument
    return doc && doc.body && doc.body.textContent.includes('KNOWNHEADLINE')
  })
  const replayed = await admin.evaluate(() => document.querySelector('#player iframe').contentDocument.body.textContent)
  assert.ok(replayed.includes('KNOWNHEADLINE'), 'the replayed page shows the recorded page')
  const file = join(mkdtempSync(join(tmpdir(), 'assent-replay-')), 'playback.png')
  const shot = await admin.locator('#player').screenshot({ path: file })
  const blank = await admin.locator('header').screenshot()
  assert.ok(shot.length > 5000, `a non-blank screenshot (${shot.length} bytes) at ${file}`)
  assert.notDeepEqual(shot, blank)
  assert.equal(await admin.evaluate(() => sessionStorage.getItem('assent_admin_token')), ADMIN_TOKEN, 'token in this tab only')
  assert.deepEqual(await admin.evaluate(() => Object.keys(localStorage)), [])
  assert.deepEqual(errors, [])
  writeFileSync(file + '.txt', `session ${session}\n`)
  console.log('playback screenshot:', file)
  await adminContext.close()
})
