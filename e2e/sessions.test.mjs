// Sessions under Playwright's clock: no real waiting.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'

const env = setup()

async function openWithClock(config, time) {
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.clock.install({ time })
  await page.goto(env.site.url('www.shop.test', '/', config))
  return { context, page }
}

const send = (page, name) =>
  page.evaluate(async (name) => {
    a.track(name)
    await a.flush()
  }, name)

test('30 minutes of inactivity start a new session; sessionId and sequence are on every event', async () => {
  const start = new Date('2026-11-22T09:00:00Z')
  const { page, context } = await openWithClock(env.config(), start)
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }))
  await send(page, 'se 1')
  await page.clock.fastForward('10:00')
  await send(page, 'se 2')
  await page.clock.fastForward('29:00')
  await send(page, 'se 3')
  await page.clock.fastForward('30:01')
  await send(page, 'se 4')
  const rows = await env.collector.waitFor((r) => r.length === 4, `event like 'se %'`)
  rows.sort((x, y) => x.sequence - y.sequence)
  assert.deepEqual(rows.map((r) => r.event), ['se 1', 'se 2', 'se 3', 'se 4'])
  const [s1, s2, s3, s4] = rows.map((r) => r.session_id)
  assert.ok(Math.abs(s1 - start.getTime()) < 5000, 'the session id is its start time in ms')
  assert.equal(s2, s1)
  assert.equal(s3, s1, '29 minutes after the last event: same session')
  assert.ok(s4 - s1 >= 69 * 60_000, 'over 30 minutes of inactivity: a new session, started at that event')
  const seq = rows.map((r) => r.sequence)
  for (let i = 1; i < seq.length; i++) assert.equal(seq[i], seq[i - 1] + 1, 'the sequence counts every event, across sessions')
  for (const r of rows) assert.ok(r.payload.sessionId && r.payload.sequence, 'on the wire too')
  await context.close()
})

test('the timeout is configurable', async () => {
  const { page, context } = await openWithClock(env.config({ session: { timeoutMinutes: 5 } }), new Date('2026-11-22T12:00:00Z'))
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }))
  await send(page, 'sc 1')
  await page.clock.fastForward('04:00')
  await send(page, 'sc 2')
  await page.clock.fastForward('05:30')
  await send(page, 'sc 3')
  const rows = (await env.collector.waitFor((r) => r.length === 3, `event like 'sc %'`)).sort((x, y) => x.sequence - y.sequence)
  assert.equal(rows[0].session_id, rows[1].session_id)
  assert.notEqual(rows[1].session_id, rows[2].session_id)
  await context.close()
})

test('the session survives a reload within the timeout', async () => {
  const { page, context } = await env.open({ init: env.config() })
  await page.evaluate(() => a.setConsent({ analytics: 'granted' }))
  await send(page, 'sr 1')
  await page.reload()
  await send(page, 'sr 2')
  const rows = (await env.collector.waitFor((r) => r.length === 2, `event like 'sr %'`)).sort((x, y) => x.sequence - y.sequence)
  assert.equal(rows[0].session_id, rows[1].session_id)
  assert.equal(rows[1].sequence, rows[0].sequence + 1)
  await context.close()
})
