// Opting out and back in: optIn() lifts the opt-out and nothing more, and the opt-out survives
// a reload whatever the `storage` option says. In real Chromium against the real collector,
// with its consent ledger.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deviceState } from './harness/browser.mjs'
import { setup, sleep } from './harness/fixture.mjs'

const env = setup()
const MARKER = 'ast_pk_demo_optout'
const REJECT_ALL = { analytics: 'denied', functional: 'denied', marketing: 'denied', replay: 'denied' }

/** The ledger's entries for one consent id, oldest first, with their states parsed. */
function ledger(consentId) {
  return env.collector
    .query(`select entry from consent_ledger where consent_id = '${consentId}' order by id`)
    .map((r) => JSON.parse(r.entry))
    .map((e) => ({ ...e, states: JSON.parse(e.states) }))
}

const grantsAnything = (states) => Object.entries(states).some(([c, v]) => c !== 'necessary' && v === 'granted')

test('optOut → optIn → "Reject all": nothing is granted at any moment, no identifier touches the device, the ledger has every step', async () => {
  const { page, context, batches } = await env.open({ init: env.config() })
  const consentId = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted', marketing: 'granted' }, { source: 'banner' })
    a.track('oi before opt-out')
    await a.flush()
    a.optOut()
    return a.getConsent().id
  })
  await sleep(200)
  const sentBefore = batches.length
  await page.evaluate(() => (window.__writes.length = 0))

  const seen = await page.evaluate(async (reject) => {
    const changes = []
    a.onConsentChange((c) => changes.push(c))
    a.optIn()
    const lifted = a.getConsent()
    a.setConsent(reject, { source: 'banner' })
    a.track('oi after reject')
    await a.flush()
    return { lifted, changes, final: a.getConsent(), optedOut: a.isOptedOut(), anonymousId: a.user().anonymousId() }
  }, REJECT_ALL)

  // optIn lifted the opt-out only: every category pending, "not asked yet", same consent id.
  assert.equal(seen.optedOut, false)
  assert.equal(seen.lifted.id, consentId)
  assert.equal(seen.lifted.decided, false, 'the visitor is asked again')
  assert.deepEqual(Object.entries(seen.lifted.state).filter(([, v]) => v !== 'pending'), [['necessary', 'granted']])
  assert.ok(!seen.changes.some((c) => grantsAnything(c.state)), 'no listener ever heard of a grant')
  assert.equal(seen.final.state.analytics, 'denied')
  assert.equal(seen.anonymousId, undefined)

  // On the device: the marker went, the refusal was kept, and no identifier was written, even for a moment.
  const written = await page.evaluate(() => window.__writes.map((w) => w.key || w.value.split('=')[0]))
  assert.ok(written.length > 0)
  assert.deepEqual([...new Set(written)].sort(), ['ast_pk_demo_consent', MARKER], 'only the consent record and the marker removal: ' + written)
  const s = await deviceState(page)
  assert.deepEqual(s.cookies.map((c) => c.name), ['ast_pk_demo_consent'])

  // On the wire: the lifting and the refusal, consent events only, none granting anything, no identifier.
  const after = batches.slice(sentBefore).flatMap((b) => b.events)
  assert.deepEqual(
    after.map((e) => [e.type, e.properties?.optIn === true, e.context.consent.state.analytics]),
    [
      ['consent', true, 'pending'],
      ['consent', false, 'denied'],
    ],
  )
  for (const e of after) {
    assert.ok(!grantsAnything(e.context.consent.state))
    assert.equal(e.anonymousId, undefined)
  }

  // In the ledger: the grant, the opt-out, the lifting, the refusal — in that order.
  const entries = await (async () => {
    for (let i = 0; i < 100; i++) {
      const e = ledger(consentId)
      if (e.length >= 4) return e
      await sleep(100)
    }
    return ledger(consentId)
  })()
  assert.deepEqual(
    entries.map((e) => [e.source, e.states.analytics, e.states.marketing]),
    [
      ['banner', 'granted', 'granted'],
      ['api', 'denied', 'denied'],
      ['api', 'pending', 'pending'],
      ['banner', 'denied', 'denied'],
    ],
  )
  assert.equal(env.collector.events(`event = 'oi after reject'`).length, 0, 'onDeny: drop')
  await context.close()
})

test('after optIn, a partial choice grants exactly what it says (marketing stays pending)', async () => {
  const { page, context } = await env.open({ init: env.config() })
  const state = await page.evaluate(async () => {
    a.optOut()
    a.optIn()
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track('oi analytics only')
    await a.flush()
    return a.getConsent().state
  })
  assert.deepEqual([state.analytics, state.marketing, state.replay], ['granted', 'pending', 'pending'])
  const [row] = await env.collector.waitFor((r) => r.length === 1, `event = 'oi analytics only'`)
  assert.ok(row.anonymous_id, 'identifiers again, now that analytics is granted')
  await context.close()
})

test('the opt-out survives a reload and a new tab whatever the storage option, as a marker in a cookie and localStorage', async () => {
  for (const storage of ['memory', 'sessionStorage', 'cookie', 'localStorage', 'cookieAndLocalStorage']) {
    const { page, context, batches } = await env.open({ init: env.config({ storage }) })
    await page.evaluate(async () => {
      a.setConsent({ analytics: 'granted' }, { source: 'banner' })
      a.track('oo before')
      await a.flush()
      a.optOut()
    })
    await sleep(200)
    const sent = batches.length
    const markerOnly = async (p) => {
      const s = await deviceState(p)
      return [s.cookies.map((c) => c.name), Object.keys(s.localStorage), Object.keys(s.sessionStorage)]
    }
    assert.deepEqual(await markerOnly(page), [[MARKER], [MARKER], []], `${storage}: only the marker`)

    await page.reload()
    const newTab = await context.newPage()
    await newTab.goto(env.site.url('www.shop.test', '/', env.config({ storage })))
    for (const p of [page, newTab]) {
      const state = await p.evaluate(async () => {
        a.track('oo after reload')
        a.setConsent({ analytics: 'granted' })
        await a.flush()
        return { optedOut: a.isOptedOut(), consent: a.getConsent().state.analytics }
      })
      assert.deepEqual(state, { optedOut: true, consent: 'denied' }, `${storage}: still opted out`)
    }
    await sleep(200)
    assert.equal(batches.length, sent, `${storage}: no request after the reload`)
    assert.deepEqual(await markerOnly(page), [[MARKER], [MARKER], []])
    await context.close()
  }
  assert.equal(env.collector.events(`event = 'oo after reload'`).length, 0)
})
