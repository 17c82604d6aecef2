// The Tracker class on its own, in real Chromium (it needs a DOM, cookies and storage), sending
// to a recording HTTP server rather than the collector: what each call captures, holds, sends
// and writes. The e2e tests run the same tracker against the real collector.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { build } from 'esbuild'
import { Browser, chromium, Page } from 'playwright-core'
import { StandIn, startStandIn } from './support/collector-stand-in'

let browser: Browser
let collector: StandIn

before(async () => {
  // The package's own entry point, built as one script that exposes it as window.AssentUnit.
  const built = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    globalName: 'AssentUnit',
    target: 'es2022',
    write: false,
    define: { __VERSION__: '"unit"' },
  })
  collector = await startStandIn(`<!doctype html><title>Unit</title><script>${built.outputFiles[0].text}</script>`)
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
})

after(async () => {
  await browser?.close()
  await collector?.close()
})

/** A fresh profile on the recording server's page; `t` in the page is `init(config)`. */
async function open(config: Record<string, unknown> = {}): Promise<Page> {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(collector.url + '/')
  await page.evaluate(
    ([endpoint, config]) => {
      const w = window as any
      w.t = w.AssentUnit.init({ writeKey: 'pk_unit', endpoint, ...config, delivery: { flushIntervalMs: 10, ...(config as any).delivery } })
    },
    [collector.url, config] as const,
  )
  return page
}

/** Events the recording server received since `from`, in order. */
const eventsSince = (from: number) => collector.received.slice(from).flatMap((r) => r.events)

test('while consent is pending events are held in memory, then released with identifiers and the consent they were released under', async () => {
  const page = await open()
  const from = collector.received.length
  const held = await page.evaluate(async () => {
    const t = (window as any).t
    t.track('held 1')
    t.identify('user-1')
    await new Promise((r) => setTimeout(r, 50))
    return { stats: t.stats(), storage: localStorage.length, cookies: document.cookie }
  })
  assert.equal(held.stats.held, 2)
  assert.deepEqual([held.storage, held.cookies], [0, ''], 'held in memory only')
  assert.equal(collector.received.length, from, 'nothing sent while pending')

  await page.evaluate(async () => {
    const t = (window as any).t
    t.setConsent({ analytics: 'granted' }, { source: 'banner' })
    await t.flush()
  })
  const sent = eventsSince(from)
  assert.deepEqual(sent.map((e) => e.event || e.type), ['held 1', 'identify', 'consent'])
  const [track, identify] = sent
  assert.ok(track.anonymousId && track.anonymousId === identify.anonymousId)
  assert.equal(identify.userId, 'user-1')
  assert.equal(track.context.consent.state.analytics, 'granted', 'released under the grant')
  assert.deepEqual([track.sequence, identify.sequence], [1, 2])
  await page.context().close()
})

test('an event keeps the consent it was captured under, even when consent changes before it is sent', async () => {
  const page = await open({ delivery: { flushIntervalMs: 60_000 } })
  const from = collector.received.length
  await page.evaluate(async () => {
    const t = (window as any).t
    t.setConsent({ analytics: 'granted' })
    t.track('before marketing')
    t.setConsent({ marketing: 'granted' })
    t.track('after marketing')
    await t.flush()
  })
  const byName = Object.fromEntries(eventsSince(from).filter((e) => e.type === 'track').map((e) => [e.event, e.context.consent.state.marketing]))
  assert.deepEqual(byName, { 'before marketing': 'pending', 'after marketing': 'granted' })
  await page.context().close()
})

test('anonymous events carry no consent id and no identifier; consent events keep the id', async () => {
  const page = await open({ consent: { whilePending: 'anonymous' } })
  const from = collector.received.length
  const consentId = await page.evaluate(async () => {
    const t = (window as any).t
    t.track('anonymous 1')
    t.identify('nobody')
    t.setConsent({ analytics: 'denied' })
    await t.flush()
    return t.getConsent().id
  })
  const sent = eventsSince(from)
  assert.deepEqual(sent.map((e) => e.event || e.type), ['anonymous 1', 'consent'], 'identify in an anonymous level is not sent')
  assert.equal(sent[0].context.consent.id, undefined)
  assert.equal(sent[0].anonymousId, undefined)
  assert.equal(sent[1].context.consent.id, consentId)
  await page.context().close()
})

test('an event over 32 KB (in UTF-8 bytes) is refused before it is queued; the rest go', async () => {
  const page = await open()
  const from = collector.received.length
  const stats = await page.evaluate(async () => {
    const t = (window as any).t
    const warn = console.warn
    console.warn = () => {}
    t.setConsent({ analytics: 'granted' })
    t.track('euros', { text: '€'.repeat(11_000) }) // 11 000 characters, 33 000 bytes
    t.track('ascii', { text: 'e'.repeat(11_000) })
    await t.flush()
    console.warn = warn
    return t.stats()
  })
  assert.equal(stats.dropped.tooLarge, 1)
  assert.deepEqual(eventsSince(from).map((e) => e.event || e.type), ['consent', 'ascii'])
  await page.context().close()
})

test('identity and session are written once per task, however many events the task tracks', async () => {
  const page = await open({ delivery: { flushIntervalMs: 60_000 } })
  const writes = await page.evaluate(async () => {
    const t = (window as any).t
    t.setConsent({ analytics: 'granted' })
    await new Promise((r) => setTimeout(r, 0))
    const counts: Record<string, number> = {}
    const setItem = Storage.prototype.setItem
    Storage.prototype.setItem = function (k: string, v: string) {
      counts[k] = (counts[k] || 0) + 1
      return setItem.call(this, k, v)
    }
    for (let i = 0; i < 100; i++) t.track('burst', { i })
    await Promise.resolve()
    await new Promise((r) => setTimeout(r, 0))
    Storage.prototype.setItem = setItem
    return { counts, record: JSON.parse(localStorage.getItem('ast_pk_unit_id')!) }
  })
  assert.deepEqual(writes.counts, { ast_pk_unit_id: 1, ast_pk_unit_queue: 1 })
  assert.equal(writes.record.v, 2)
  assert.equal(writes.record.session.seq, 101, 'the consent event and 100 tracks')
  await page.context().close()
})

test('plugins: adopt() chooses the id, identity() hears grants, resets and withdrawals, hold() pauses delivery, replaceAnonymousId() reaches queued events', async () => {
  const page = await open()
  const from = collector.received.length
  const seen = await page.evaluate(async () => {
    const w = window as any
    const heard: unknown[] = []
    let access: any
    const plugin = {
      setup: (_: unknown, a: unknown) => (access = a),
      adopt: (ids: any) => (ids.anonymousId = ids.anonymousId || 'from-plugin'),
      identity: (allowed: boolean) => heard.push(allowed),
    }
    const t = w.AssentUnit.init({ writeKey: 'pk_plugins', endpoint: location.origin, plugins: [plugin], delivery: { flushIntervalMs: 10 } })
    t.setConsent({ analytics: 'granted' })
    const adopted = t.user().anonymousId()
    access.hold(true)
    t.track('held by plugin')
    await new Promise((r) => setTimeout(r, 100))
    const whileHeld = t.stats().queued
    access.replaceAnonymousId('replaced-id')
    access.hold(false)
    await t.flush()
    t.reset()
    t.setConsent({ analytics: 'denied' })
    return { heard, adopted, whileHeld, after: t.user().anonymousId(), endpoint: access.endpoint, writeKey: access.writeKey }
  })
  assert.equal(seen.adopted, 'from-plugin')
  assert.equal(seen.whileHeld, 2, 'the consent event and the track waited')
  assert.deepEqual(seen.heard, [true, false, true, false], 'grant, reset (forgotten, then allowed again), withdrawal')
  assert.deepEqual([seen.endpoint, seen.writeKey], [collector.url, 'pk_plugins'])
  const sent = eventsSince(from)
  assert.ok(sent.length >= 2)
  for (const e of sent.slice(0, 2)) assert.equal(e.anonymousId, 'replaced-id', `${e.event || e.type} carries the replaced id`)
  await page.context().close()
})

test('in the opt-out (US) mode, optIn() resumes identified tracking at once', async () => {
  const page = await open({ consent: { mode: 'opt-out' } })
  const from = collector.received.length
  const ids = await page.evaluate(async () => {
    const t = (window as any).t
    t.optOut()
    const during = t.user().anonymousId()
    t.optIn()
    t.track('after opt-in')
    await t.flush()
    return { during, after: t.user().anonymousId() }
  })
  assert.equal(ids.during, undefined)
  const track = eventsSince(from).find((e) => e.event === 'after opt-in')
  assert.ok(track && track.anonymousId === ids.after)
  await page.context().close()
})
