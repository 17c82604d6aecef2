// Cross-domain linking, a plugin (assent-cross-domain.min.js): a link carries the visitor's id to
// a sister site, which adopts it only while fresh and only with analytics and marketing consent.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './harness/fixture.mjs'

const env = setup()
const ALL = { analytics: 'granted', marketing: 'granted' }
/** Tracker options with the cross-domain plugin (the fixture page builds it from this data). */
const linking = (over = {}, options = {}) => env.config({ ...over, plugins: [['crossDomain', options]] })

test('decorateUrl links a sister site; the landing page adopts a fresh id with consent only', async () => {
  const { page, context } = await env.open({ host: 'www.shop.test', init: linking() })
  const pendingLink = await page.evaluate(() => plugins.crossDomain.decorateUrl('https://www.partner.test/x'))
  assert.equal(pendingLink, 'https://www.partner.test/x', 'no link id without consent')
  const { id, link, analyticsOnly } = await page.evaluate(
    ({ target, all }) => {
      a.setConsent({ analytics: 'granted' })
      const analyticsOnly = plugins.crossDomain.decorateUrl(target)
      a.setConsent(all)
      return { id: a.user().anonymousId(), link: plugins.crossDomain.decorateUrl(target), analyticsOnly }
    },
    { target: env.site.url('www.partner.test', '/landing?ref=1'), all: ALL },
  )
  assert.equal(new URL(analyticsOnly).searchParams.get('ast_xd'), null, 'analytics alone does not allow linking')
  const value = new URL(link).searchParams.get('ast_xd')
  assert.match(value, new RegExp(`^${id}\\.\\d{13}$`))
  assert.equal(new URL(link).searchParams.get('ref'), '1')

  // Landing with consent: adopted, and the id never appears in the reported page URL.
  await page.goto(link + '&init=' + encodeURIComponent(JSON.stringify(linking())))
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
  await page.goto(link + '&init=' + encodeURIComponent(JSON.stringify(linking({ writeKey: 'pk_other' }))))
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
  const url = env.site.url('www.partner.test', `/landing?ast_xd=${id}.${old}`, linking())
  const { page, context } = await env.open({ host: 'www.partner.test' })
  await page.goto(url)
  assert.notEqual(await page.evaluate((all) => (a.setConsent(all), a.user().anonymousId()), ALL), id)
  await page.goto(url.replace(String(old), String(Date.now())))
  assert.equal(await page.evaluate((all) => (a.setConsent(all), a.user().anonymousId()), ALL), id, 'the same link, fresh, is adopted')
  await context.close()
})

test('links to configured domains are decorated on click', async () => {
  const config = linking({}, { domains: ['partner.test'] })
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

test('without the plugin the core neither adopts a link nor decorates links, but still cuts ast_xd from URLs', async () => {
  const id = '11111111-2222-4333-8444-666666666666'
  const { page, context } = await env.open({ host: 'www.partner.test', path: `/landing?ast_xd=${id}.${Date.now()}`, init: env.config() })
  const seen = await page.evaluate(async (all) => {
    a.setConsent(all)
    a.page('Landing without plugin')
    await a.flush()
    return a.user().anonymousId()
  }, ALL)
  assert.notEqual(seen, id)
  const [row] = await env.collector.waitFor((r) => r.length === 1, `type = 'page' and anonymous_id = '${seen}'`)
  assert.equal(new URL(row.payload.context.page.url).searchParams.has('ast_xd'), false)
  assert.ok(new URL(row.payload.context.page.url).searchParams.has('init'), 'other parameters stay')
  await context.close()
})
