// Identity in the browser: user() and group() across reloads, clearUserData's options (with
// Snowplow's meaning), and an anonymousId given by the caller (`deviceId`, or a URL parameter).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deviceState, waitForRequests } from './harness/browser.mjs'
import { setup } from './harness/fixture.mjs'

const env = setup()
const IDENTITY_KEYS = ['ast_pk_demo_id', 'ast_pk_demo_traits', 'ast_pk_demo_gtraits']

/** Which of the tracker's identity keys the device holds, in cookies and in localStorage. */
async function identityOnDevice(page) {
  const s = await deviceState(page)
  return {
    cookies: s.cookies.map((c) => c.name).filter((n) => IDENTITY_KEYS.includes(n)),
    localStorage: Object.keys(s.localStorage).filter((k) => IDENTITY_KEYS.includes(k)),
  }
}

test('user() and group(): set, get, clear, and kept across reloads', async () => {
  const { page, context } = await env.open({ init: env.config() })
  await page.evaluate(() => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.user().id('user-8')
    a.user().traits({ plan: 'pro' })
    a.group().id('group-8')
    a.group().traits({ seats: 3 })
  })
  const read = () =>
    page.evaluate(() => ({ id: a.user().id(), traits: a.user().traits(), groupId: a.group().id(), groupTraits: a.group().traits() }))
  const set = { id: 'user-8', traits: { plan: 'pro' }, groupId: 'group-8', groupTraits: { seats: 3 } }
  assert.deepEqual(await read(), set)
  await page.reload()
  assert.deepEqual(await read(), set, 'kept across a reload')
  await page.evaluate(async () => {
    a.track('id after reload')
    a.identify({ email: 'u8@example.test' })
    await a.flush()
  })
  const rows = await env.collector.waitFor((r) => r.length === 2, `user_id = 'user-8'`)
  const identify = rows.find((r) => r.type === 'identify')
  assert.deepEqual(identify.payload.traits, { plan: 'pro', email: 'u8@example.test' })

  // Clearing: null clears an id, an empty object the traits; both stay cleared after a reload.
  await page.evaluate(() => {
    a.user().id(null)
    a.user().traits({})
    a.group().id(null)
    a.group().traits({})
  })
  await page.reload()
  assert.deepEqual(await read(), { id: undefined, traits: {}, groupId: undefined, groupTraits: {} })
  const s = await deviceState(page)
  assert.deepEqual(Object.keys(JSON.parse(s.localStorage.ast_pk_demo_id)).sort(), ['aid', 'session', 'v'], 'the record keeps the anonymousId and session only')
  assert.equal(s.localStorage.ast_pk_demo_traits, undefined)
  await context.close()
})

test("clearUserData always clears the device; its options keep the user's ids or the session in memory (Snowplow's meaning)", async () => {
  for (const preserveUser of [false, true])
    for (const preserveSession of [false, true]) {
      const label = `preserveUser ${preserveUser}, preserveSession ${preserveSession}`
      const { page, context } = await env.open({ init: env.config() })
      const before = await page.evaluate(async () => {
        a.setConsent({ analytics: 'granted' }, { source: 'banner' })
        a.identify('user-c', { plan: 'pro' })
        a.group('group-c', { seats: 2 })
        a.track('cud before')
        await a.flush()
        return { anonymousId: a.user().anonymousId(), sessionId: a.sessionId() }
      })
      assert.equal((await identityOnDevice(page)).localStorage.length, 3, `${label}: identity stored before`)

      // An event just before, whose session the tracker would write at the end of the task: the
      // clearing comes later, so the device stays clear.
      await page.evaluate((options) => (a.track('cud just before'), a.clearUserData(options)), { preserveUser, preserveSession })
      assert.deepEqual(await identityOnDevice(page), { cookies: [], localStorage: [] }, `${label}: the device is cleared`)
      await page.waitForTimeout(50)
      assert.deepEqual(await identityOnDevice(page), { cookies: [], localStorage: [] }, `${label}: and stays so until the next event`)
      assert.ok((await deviceState(page)).cookies.some((c) => c.name === 'ast_pk_demo_consent'), `${label}: the consent record stays`)

      const name = `cud after ${preserveUser} ${preserveSession}`
      const memory = await page.evaluate(async (name) => {
        a.track(name)
        await a.flush()
        return { userId: a.user().id(), groupId: a.group().id(), traits: a.user().traits() }
      }, name)
      const [row] = await env.collector.waitFor((r) => r.length === 1, `event = '${name}'`)
      assert.equal(row.anonymous_id === before.anonymousId, preserveUser, `${label}: same anonymousId`)
      assert.deepEqual(memory, preserveUser ? { userId: 'user-c', groupId: 'group-c', traits: { plan: 'pro' } } : { userId: undefined, groupId: undefined, traits: {} })
      assert.equal(row.user_id, preserveUser ? 'user-c' : null)
      assert.equal(row.session_id === before.sessionId, preserveSession, `${label}: same session`)
      // Consent still allows identifiers: the next event stores what memory holds, as Snowplow's cookies are rewritten.
      assert.equal((await identityOnDevice(page)).localStorage.includes('ast_pk_demo_id'), true)
      await context.close()
    }
})

test('deviceId: the caller gives the anonymousId, used only once analytics is allowed', async () => {
  const { page, context, batches } = await env.open({ init: env.config({ deviceId: 'device-from-app-1' }) })
  const pending = await page.evaluate(() => {
    a.track('did held')
    return a.user().anonymousId()
  })
  assert.equal(pending, undefined, 'not before consent')
  assert.deepEqual(await page.evaluate(() => window.__writes), [])
  assert.equal(batches.length, 0)
  const granted = await page.evaluate(async () => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track('did granted')
    await a.flush()
    return a.user().anonymousId()
  })
  assert.equal(granted, 'device-from-app-1')
  const rows = await env.collector.waitFor((r) => r.length === 2, `event like 'did %'`)
  assert.deepEqual(rows.map((r) => r.anonymous_id), ['device-from-app-1', 'device-from-app-1'], 'the held event got it too')
  assert.equal(JSON.parse((await deviceState(page)).localStorage.ast_pk_demo_id).aid, 'device-from-app-1')

  // Refused: never adopted, never sent, nothing written but the choice.
  const refused = await env.open({ init: env.config({ writeKey: 'pk_other', deviceId: 'device-refused', consent: { onDeny: 'anonymous' } }) })
  await refused.page.evaluate(async () => {
    a.setConsent({ analytics: 'denied' }, { source: 'banner' })
    a.track('did refused')
    await a.flush()
  })
  const [row] = await env.collector.waitFor((r) => r.length === 1, `event = 'did refused'`)
  assert.equal(row.anonymous_id, null)
  await waitForRequests(refused.batches, (b) => b.flatMap((x) => x.events).length, 2)
  // (The fixture page's own URL carries the init options, so look at the identifiers, not the text.)
  for (const e of refused.batches.flatMap((b) => b.events)) assert.equal(e.anonymousId, undefined, 'the id never left the page')
  assert.deepEqual(Object.keys((await deviceState(refused.page)).localStorage), ['ast_pk_other_consent'])
  await refused.context.close()
  await context.close()
})

test('deviceIdFromUrlParam: off by default; when on, the URL gives the anonymousId (deviceId wins), and the parameter never reaches the store', async () => {
  const run = async (config, path) => {
    const { page, context } = await env.open({ path, init: env.config(config) })
    const name = `didp ${JSON.stringify(config)} ${path}`
    const id = await page.evaluate(async (name) => {
      a.setConsent({ analytics: 'granted' }, { source: 'banner' })
      a.page(name)
      await a.flush()
      return a.user().anonymousId()
    }, name)
    const [row] = await env.collector.waitFor((r) => r.length === 1, `type = 'page' and event = '${name.replace(/'/g, "''")}'`)
    await context.close()
    return { id, url: new URL(row.payload.context.page.url) }
  }
  const off = await run({}, '/landing?ast_did=from-url-1')
  assert.notEqual(off.id, 'from-url-1', 'off by default')
  assert.equal(off.url.searchParams.get('ast_did'), 'from-url-1', "when off, the parameter is the site's own")

  const on = await run({ deviceIdFromUrlParam: true }, '/landing?ast_did=from-url-1&q=2')
  assert.equal(on.id, 'from-url-1')
  assert.equal(on.url.searchParams.has('ast_did'), false, 'cut from reported URLs')
  assert.equal(on.url.searchParams.get('q'), '2')

  const named = await run({ deviceIdFromUrlParam: 'deviceId' }, '/landing?deviceId=amp-style-1')
  assert.equal(named.id, 'amp-style-1', "a parameter name of the site's choice (Amplitude uses deviceId)")

  const both = await run({ deviceIdFromUrlParam: true, deviceId: 'from-option' }, '/landing?ast_did=from-url-2')
  assert.equal(both.id, 'from-option', 'the init option wins over the URL')

  const junk = await run({ deviceIdFromUrlParam: true }, '/landing?ast_did=%3Cscript%3E')
  assert.notEqual(junk.id, '<script>', 'only what looks like an id')
})
