// whilePending / onDeny behaviours and the anonymous levels.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()

test("whilePending 'queue': held in memory, sent with identifiers once granted", async () => {
  const { page, context, batches } = await env.open({ init: env.config({ consent: { whilePending: 'queue' } }) })
  await page.evaluate(async () => {
    a.track('fq held 1')
    a.identify('user-fq')
    a.track('fq held 2')
    await a.flush()
  })
  await sleep(200)
  assert.equal(batches.length, 0)
  assert.equal(await page.evaluate(() => a.stats().held), 3)
  const id = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    await a.flush()
    return a.user().anonymousId()
  })
  const rows = await env.collector.waitFor((r) => r.length === 2, `event like 'fq held %'`)
  for (const r of rows) {
    assert.equal(r.anonymous_id, id)
    assert.equal(r.user_id, 'user-fq')
    assert.ok(r.session_id > 0 && r.sequence > 0)
    assert.equal(r.payload.context.consent.state.analytics, 'granted', 'sent under the consent that allowed it')
  }
  await context.close()
})

test("whilePending 'queue' then a refusal: the held events are dropped, never sent", async () => {
  const { page, context } = await env.open({ init: env.config() })
  await page.evaluate(async () => {
    a.track('fq refused')
    a.setConsent({ analytics: 'denied' }, { source: 'banner' })
    await a.flush()
  })
  await env.collector.waitFor((r) => r.length >= 1, `type = 'consent'`)
  assert.equal(env.collector.events(`event = 'fq refused'`).length, 0)
  assert.equal(await page.evaluate(() => a.stats().dropped.denied), 1)
  await context.close()
})

test("whilePending / onDeny 'anonymous': sent at once, no identifier, server asked to anonymise", async () => {
  const { page, context, batches } = await env.open({ init: env.config({ consent: { whilePending: 'anonymous', onDeny: 'anonymous' } }) })
  await page.evaluate(async () => {
    a.identify('user-fa')
    a.track('fa pending')
    a.setConsent({ analytics: 'denied' })
    a.track('fa denied')
    await a.flush()
  })
  const rows = await env.collector.waitFor((r) => r.length === 2, `event like 'fa %'`)
  for (const r of rows) {
    assert.equal(r.anonymous_id, null)
    assert.equal(r.user_id, null)
    assert.equal(r.session_id, null)
    assert.equal(r.payload.context.anonymous, 'server')
  }
  const wire = batches.filter((b) => b.events.some((e) => e.event?.startsWith('fa ')))
  assert.ok(wire.every((b) => b.headers['x-assent-anonymous'] === '1'))
  assert.ok(!wire.flatMap((b) => b.events).some((e) => e.type === 'identify'), 'identify carries nothing anonymous: not sent')
  await context.close()
})

test("onDeny 'drop' (the default): nothing but the consent event is sent", async () => {
  const { page, context, batches } = await env.open({ init: env.config() })
  await page.evaluate(async () => {
    a.setConsent({ analytics: 'denied' })
    a.track('fd dropped')
    a.page('Dropped')
    await a.flush()
  })
  await sleep(200)
  assert.deepEqual(batches.flatMap((b) => b.events.map((e) => e.type)), ['consent'])
  await context.close()
})

test('anonymous levels send exactly the identifiers their name promises', async () => {
  const { page, context, batches } = await env.open({ init: env.config() })
  const id = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' })
    a.identify('user-lv', { plan: 'pro' })
    await a.flush()
    for (const level of ['full', 'session', 'server']) {
      await a.enableAnonymous(level)
      a.track('lv ' + level)
      a.track('lv ' + level + ' again')
    }
    await a.disableAnonymous()
    a.track('lv identified')
    await a.flush()
    return a.user().anonymousId()
  })
  const rows = await env.collector.waitFor((r) => r.length === 7, `event like 'lv %'`)
  const by = Object.fromEntries(rows.map((r) => [r.event, r]))
  for (const level of ['full', 'server']) {
    const r = by['lv ' + level]
    assert.deepEqual([r.anonymous_id, r.user_id, r.session_id, r.sequence], [null, null, null, null], level)
    assert.equal(r.payload.context.anonymous, level)
    assert.equal(r.payload.traits, undefined)
  }
  const s = by['lv session']
  assert.deepEqual([s.anonymous_id, s.user_id], [null, null])
  assert.ok(s.session_id > 0)
  assert.equal(by['lv session again'].session_id, s.session_id)
  assert.equal(by['lv session again'].sequence, s.sequence + 1)
  assert.equal(by['lv identified'].anonymous_id, id)
  assert.equal(by['lv identified'].user_id, 'user-lv')
  const header = (name) => batches.find((b) => b.events.some((e) => e.event === name)).headers['x-assent-anonymous']
  assert.equal(header('lv server'), '1')
  assert.equal(header('lv full'), undefined)
  assert.equal(header('lv session'), undefined)
  assert.equal(header('lv identified'), undefined)
  await context.close()
})

test('toggling anonymity at runtime flushes first and loses nothing', async () => {
  const { page, context } = await env.open({ init: env.config({ delivery: { flushIntervalMs: 60_000 } }) })
  const id = await page.evaluate(() => {
    a.setConsent({ analytics: 'granted' })
    a.track('tg before')
    a.enableAnonymous('server')
    a.track('tg during')
    a.disableAnonymous()
    a.track('tg after')
    a.flush()
    return a.user().anonymousId()
  })
  const rows = await env.collector.waitFor((r) => r.length === 3, `event like 'tg %'`)
  const by = Object.fromEntries(rows.map((r) => [r.event, r]))
  assert.equal(by['tg before'].anonymous_id, id, 'captured identified, sent identified')
  assert.equal(by['tg during'].anonymous_id, null)
  assert.equal(by['tg after'].anonymous_id, id)
  await context.close()
})
