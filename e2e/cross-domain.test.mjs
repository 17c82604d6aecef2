// Issue 3, point 7: cross-domain linking and adopting the ids other trackers left.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'

const env = setup()
const ALL = { analytics: 'granted', marketing: 'granted' }

test('decorateUrl links a sister site; the landing page adopts a fresh id with consent only', async () => {
  const { page, context } = await env.open({ host: 'www.shop.test', init: env.config() })
  const pendingLink = await page.evaluate(() => a.decorateUrl('https://www.partner.test/x'))
  assert.equal(pendingLink, 'https://www.partner.test/x', 'no link id without consent')
  const { id, link, analyticsOnly } = await page.evaluate(
    ({ target, all }) => {
      a.setConsent({ analytics: 'granted' })
      const analyticsOnly = a.decorateUrl(target)
      a.setConsent(all)
      return { id: a.user().anonymousId(), link: a.decorateUrl(target), analyticsOnly }
    },
    { target: env.site.url('www.partner.test', '/landing?ref=1'), all: ALL },
  )
  assert.equal(new URL(analyticsOnly).searchParams.get('ast_xd'), null, 'analytics alone does not allow linking')
  const value = new URL(link).searchParams.get('ast_xd')
  assert.match(value, new RegExp(`^${id}\\.\\d{13}$`))
  assert.equal(new URL(link).searchParams.get('ref'), '1')

  // Landing with consent: adopted, and the id never appears in the reported page URL.
  await page.goto(link + '&init=' + encodeURIComponent(JSON.stringify(env.config())))
  const landed = await page.evaluate(async (all) => {
    a.setConsent(all)
    a.page('Landing')
    await a.flush()
    return a.user().anonymousId()
  }, ALL)
  assert.equal(landed, id)
  const [row] = await env.collector.waitFor((r) => r.length === 1, `type = 'page' and anonymous_id = '${id}'`)
  assert.ok(!row.payload.context.page.url.includes('ast_xd'), 'the link id is cut from page URLs')

  // Landing without marketing consent: not adopted.
  await page.goto(link + '&init=' + encodeURIComponent(JSON.stringify(env.config({ writeKey: 'pk_other' }))))
  const refused = await page.evaluate(() => {
    a.setConsent({ analytics: 'granted', marketing: 'denied' })
    return a.user().anonymousId()
  })
  assert.notEqual(refused, id)
  await context.close()
})

test('a stale link (older than maxAgeSeconds) is ignored', async () => {
  const old = Date.now() - 121_000
  const id = '11111111-2222-4333-8444-555555555555'
  const url = env.site.url('www.partner.test', `/landing?ast_xd=${id}.${old}`, env.config())
  const { page, context } = await env.open({ host: 'www.partner.test' })
  await page.goto(url)
  assert.notEqual(await page.evaluate((all) => (a.setConsent(all), a.user().anonymousId()), ALL), id)
  await page.goto(url.replace(String(old), String(Date.now())))
  assert.equal(await page.evaluate((all) => (a.setConsent(all), a.user().anonymousId()), ALL), id, 'the same link, fresh, is adopted')
  await context.close()
})

test('links to configured domains are decorated on click', async () => {
  const config = env.config({ crossDomain: { domains: ['partner.test'] } })
  const { page, context } = await env.open({ host: 'www.shop.test', init: config })
  const id = await page.evaluate(
    ({ all, href }) => {
      a.setConsent(all)
      const link = document.createElement('a')
      link.id = 'partner'
      link.href = href
      link.textContent = 'partner'
      document.body.append(link)
      return a.user().anonymousId()
    },
    { all: ALL, href: env.site.url('www.partner.test', '/from-click') },
  )
  await Promise.all([page.waitForURL(/from-click/), page.click('#partner')])
  assert.match(page.url(), new RegExp(`ast_xd=${id}\\.`))
  await context.close()
})

test('migrateFrom adopts the anonymous id Segment, Amplitude or Snowplow left — only with consent', async () => {
  const amp = Buffer.from(encodeURIComponent(JSON.stringify({ deviceId: 'amp-device-7', sessionId: 1 }))).toString('base64')
  const peers = {
    segment: { name: 'ajs_anonymous_id', value: '%22seg-anon-7%22', expect: 'seg-anon-7' },
    amplitude: { name: 'AMP_abcdef1234', value: encodeURIComponent(amp), expect: 'amp-device-7' },
    snowplow: { name: '_sp_id.4f2a', value: 'sp-domain-user-7.1700000000.4.1700000500.1700000400', expect: 'sp-domain-user-7' },
  }
  for (const [peer, c] of Object.entries(peers)) {
    const context = await env.browser.newContext()
    await context.addCookies([{ name: c.name, value: c.value, domain: 'www.shop.test', path: '/' }])
    const page = await context.newPage()
    await page.goto(env.site.url('www.shop.test', '/', env.config({ migrateFrom: [peer] })))
    assert.equal(await page.evaluate(() => a.user().anonymousId()), undefined, `${peer}: nothing read before consent`)
    const id = await page.evaluate(async (peer) => {
      a.setConsent({ analytics: 'granted' })
      a.track('mig ' + peer)
      await a.flush()
      return a.user().anonymousId()
    }, peer)
    assert.equal(id, c.expect, peer)
    await env.collector.waitFor((r) => r.length === 1, `event = 'mig ${peer}' and anonymous_id = '${c.expect}'`)
    await context.close()
  }
})
