// The dashboard at /dashboard/ in real Chromium against the real collector: signing in with a
// viewer token, every panel read and checked against the events this test sent, the period
// changed, the whole dashboard filtered by clicking a row, a funnel built, what a viewer token
// may not do; and screenshots at desktop and phone width, on the test's events and on the demo
// shop's (assent demo-data).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { launchChromium } from './harness/browser.mjs'
import { repoRoot, startCollector } from './harness/collector.mjs'

const artifacts = repoRoot + '/e2e/artifacts'
const VIEWER = 'vk_demo'
const FIREFOX = (v) => `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`
const CHROME = (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`
const GRANTED = { id: 'c', state: { necessary: 'granted', analytics: 'granted', marketing: 'granted' }, decided: true, revision: '3', source: 'banner' }

let collector, browser
before(async () => {
  mkdirSync(artifacts, { recursive: true })
  collector = await startCollector()
  browser = await launchChromium()
  await sendTheVisits()
})
after(async () => {
  await browser?.close()
  await collector?.stop()
})

async function send(userAgent, events, headers = {}) {
  const res = await fetch(collector.url + '/v1/batch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent, authorization: 'Basic ' + btoa('pk_demo:'), ...headers },
    body: JSON.stringify({ batch: events }),
  })
  assert.equal(res.status, 200, await res.text())
}

let n = 0
const at = (minutesAgo) => new Date(Date.now() - minutesAgo * 60_000).toISOString()
const page = (path, userAgent, ids, consent, minutesAgo) => ({ type: 'page', messageId: `m${++n}`, timestamp: at(minutesAgo), ...ids, context: { page: { path, url: 'https://site.test' + path, referrer: path === '/' && ids.anonymousId ? 'https://news.ycombinator.com/item' : '' }, userAgent, consent } })

/**
 * Four browsers: A and B (Firefox) accept everything and are identified; C (Chrome) never
 * answers and is measured with the cookieless hash only; D (Chrome) rejects everything,
 * through an anonymous request, and sends nothing else.
 */
async function sendTheVisits() {
  const a = { anonymousId: 'a-1' }
  const b = { anonymousId: 'b-1' }
  const ua = { A: FIREFOX(133), B: FIREFOX(132), C: CHROME(131), D: CHROME(130) }
  await send(ua.A, [
    { type: 'consent', messageId: `m${++n}`, timestamp: at(20), ...a, context: { consent: { ...GRANTED, id: 'ca' }, userAgent: ua.A } },
    page('/', ua.A, a, GRANTED, 20),
    page('/pricing', ua.A, a, GRANTED, 19),
    page('/signup', ua.A, a, GRANTED, 18),
    { type: 'track', event: 'Signed Up', messageId: `m${++n}`, timestamp: at(18), ...a, properties: { plan: 'pro' }, context: { userAgent: ua.A, consent: GRANTED } },
  ])
  await send(ua.B, [
    { type: 'consent', messageId: `m${++n}`, timestamp: at(15), ...b, context: { consent: { ...GRANTED, id: 'cb' }, userAgent: ua.B } },
    page('/', ua.B, b, GRANTED, 15),
    page('/pricing', ua.B, b, GRANTED, 14),
  ])
  const pending = { state: { necessary: 'granted', analytics: 'pending', marketing: 'pending' }, decided: false }
  await send(ua.C, [page('/', ua.C, {}, pending, 12), page('/blog', ua.C, {}, pending, 11)])
  const denied = { id: 'cd', state: { necessary: 'granted', analytics: 'denied', marketing: 'denied' }, decided: true, revision: '3', source: 'banner' }
  await send(ua.D, [{ type: 'consent', messageId: `m${++n}`, timestamp: at(10), context: { consent: denied, userAgent: ua.D } }], { 'x-assent-anonymous': '1' })
}

const ready = (page) => page.waitForFunction(() => document.body.dataset.state === 'ready' && document.querySelectorAll('[aria-busy=true]').length === 0)
const kpi = (page, metric) => page.locator(`[data-metric=${metric}] .kpi-value`).getAttribute('data-value').then(Number)
const figure = (page, name) => page.locator(`[data-figure=${name}] .kpi-value`).innerText()

/** A top list's rows as [value, visitors], from the table the page shows. */
async function rows(page, dimension) {
  return page.locator(`table[data-dimension=${dimension}] tbody tr`).evaluateAll((trs) => trs.map((tr) => [tr.dataset.value, Number(tr.querySelector('[data-col=visitors]').textContent.replace(/,/g, ''))]))
}

async function signIn(context, token) {
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e))
  await page.goto(collector.url + '/dashboard/')
  await page.fill('#token', 'sk_wrong')
  await page.click('button[type=submit]')
  await page.locator('.error[role=alert]').waitFor()
  assert.match(await page.locator('.error').innerText(), /does not open any project/)
  await page.fill('#token', token)
  await page.click('button[type=submit]')
  await page.locator('#panels').waitFor()
  await ready(page)
  return { page, errors }
}

test('a viewer signs in, reads every panel, changes the period and filters by clicking a row', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const { page, errors } = await signIn(context, VIEWER)
  // The last 7 days (not today: a visit is on the day it began, and this test may run at
  // midnight).
  await page.selectOption('#period', '7d')
  await ready(page)

  // The session: an HttpOnly cookie; the token is nowhere the page can read.
  const cookies = await context.cookies()
  const session = cookies.find((c) => c.name === 'assent_dashboard')
  assert.ok(session.httpOnly && session.sameSite === 'Strict', JSON.stringify(session))
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href + document.cookie)
  assert.ok(!stored.includes(VIEWER), stored)

  // Traffic: A, B and C; D refused and sent nothing but its choice.
  assert.equal(await kpi(page, 'visitors'), 3)
  assert.equal(await kpi(page, 'visits'), 3)
  assert.equal(await kpi(page, 'pageviews'), 7)
  assert.equal(await page.locator('[data-panel=traffic] canvas').count() > 0, true, 'the chart is drawn by uPlot')

  assert.deepEqual(await rows(page, 'page'), [['/', 3], ['/pricing', 2], ['/blog', 1], ['/signup', 1]])
  assert.deepEqual(await rows(page, 'source'), [['Hacker News', 2], ['Direct / none', 1]])
  assert.deepEqual(await rows(page, 'browser'), [['Firefox', 2], ['Chrome', 1]])
  await page.click('[data-tab=device]')
  await ready(page)
  assert.deepEqual(await rows(page, 'device'), [['Desktop', 3]])
  assert.deepEqual(await rows(page, 'country'), [['(unknown)', 3]], 'no country database configured')
  assert.deepEqual(await rows(page, 'event'), [['Signed Up', 1]])

  // Consent: three choices, two acceptances; C never answered; D's request kept nothing.
  assert.equal(await figure(page, 'choices'), '3')
  assert.equal(await figure(page, 'accept-all'), '67%')
  assert.equal(await figure(page, 'reject-all'), '33%')
  assert.equal(await figure(page, 'without-ids'), '27%', '3 of 11 events: C\'s two pageviews and D\'s choice')
  const analytics = await page.locator('[data-category=analytics] [data-state]').evaluateAll((els) => els.map((e) => [e.dataset.state, Number(e.dataset.count)]))
  assert.deepEqual(analytics, [['granted', 2], ['pending', 1]])

  // Privacy operations: nothing deleted, the ledger checked, retention listed.
  assert.equal(await figure(page, 'deletions'), '0')
  assert.equal(await page.locator('[data-ledger]').getAttribute('data-ledger'), 'verified')
  assert.equal(await page.locator('[data-table=retention] tr[data-kind]').count(), 4)

  // A funnel over consented visits: "/" → "/pricing" → Signed Up.
  const steps = page.locator('.step-edit')
  while ((await steps.count()) > 2) await steps.last().locator('button.icon').click()
  await steps.nth(0).locator('input').fill('/')
  await steps.nth(1).locator('input').fill('/pricing')
  await page.click('text=+ Add a step')
  await steps.nth(2).locator('select').selectOption('event')
  await steps.nth(2).locator('input').fill('Signed Up')
  await page.click('text=Show funnel')
  await ready(page)
  const funnel = await page.locator('.funnel li').evaluateAll((lis) => lis.map((li) => Number(li.dataset.visits)))
  assert.deepEqual(funnel, [2, 2, 1])
  assert.match(await page.locator('[data-panel=funnel] .note').innerText(), /allowed analytics/)

  await page.screenshot({ path: artifacts + '/dashboard-test-desktop.png', fullPage: true })

  // Clicking a row filters the whole dashboard.
  await page.click('[data-tab=browser]')
  await ready(page)
  await page.click('table[data-dimension=browser] tr[data-value=Firefox] button')
  await ready(page)
  assert.match(await page.locator('.filters').innerText(), /Browser is Firefox/)
  assert.equal(await kpi(page, 'visitors'), 2)
  assert.equal(await kpi(page, 'pageviews'), 5)
  assert.deepEqual(await rows(page, 'page'), [['/', 2], ['/pricing', 2], ['/signup', 1]])
  assert.equal(await figure(page, 'choices'), '2', 'the consent panel follows the filter')
  assert.ok(page.url().includes('browser=Firefox'), 'the view is in the URL fragment')

  // Properties of a custom event, by clicking it.
  await page.click('table[data-dimension=event] tr[data-value="Signed Up"] button')
  await ready(page)
  assert.match(await page.locator('[data-panel=properties]').innerText(), /plan\s+pro\s+1\s+1/)

  // Other periods: 90 days hold the same visits; a month of 2020 (a bookmarked view) none.
  await page.click('.filters >> text=Clear all')
  await page.selectOption('#period', '90d')
  await ready(page)
  assert.equal(await kpi(page, 'visitors'), 3)
  assert.equal(await kpi(page, 'pageviews'), 7)
  await page.evaluate(() => (location.hash = '#period=custom&from=2020-01-01&to=2020-01-31'))
  await ready(page)
  assert.equal(await page.inputValue('#from'), '2020-01-01')
  assert.equal(await kpi(page, 'visitors'), 0)
  assert.equal(await kpi(page, 'pageviews'), 0)
  await page.selectOption('#period', '7d')
  await ready(page)
  assert.equal(await kpi(page, 'visitors'), 3)

  // Phone width: one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 })
  await page.waitForTimeout(200)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`)
  await page.screenshot({ path: artifacts + '/dashboard-test-phone.png', fullPage: true })

  // Signing out ends the session.
  await page.setViewportSize({ width: 1280, height: 900 })
  await page.click('text=Sign out')
  await page.locator('#token').waitFor()
  const res = await page.evaluate(() => fetch('/v1/stats/traffic').then((r) => r.status))
  assert.equal(res, 401)
  assert.deepEqual(errors, [])
  await context.close()
})

test('a viewer token gets 403 on export, deletion and replay; no token gets 401', async () => {
  const call = (method, path, token) => fetch(collector.url + path, { method, headers: token ? { authorization: `Bearer ${token}` } : {} }).then((r) => r.status)
  for (const [method, path] of [
    ['GET', '/v1/admin/subjects/a-1/export'],
    ['DELETE', '/v1/admin/subjects/a-1'],
    ['GET', '/v1/admin/replays'],
  ]) {
    assert.equal(await call(method, path, VIEWER), 403, `${method} ${path}`)
    assert.equal(await call(method, path, undefined), 401, `${method} ${path}`)
  }
  assert.equal(await call('GET', '/v1/stats/traffic', VIEWER), 200)
  assert.equal(await call('GET', '/v1/stats/traffic', undefined), 401)
  assert.equal(await call('GET', '/v1/admin/subjects/a-1/export', 'sk_demo'), 200, 'the admin token still may')
})

test('on the demo shop\'s traffic the dashboard looks like a product (screenshots)', async () => {
  const bin = process.env.ASSENT_BIN || repoRoot + '/target/debug/assent'
  execFileSync(bin, ['demo-data', '--config', collector.config, '--project', 'demo', '--events', '40000', '--days', '30'], { cwd: repoRoot })
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ]) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: name === 'phone' ? 2 : 1 })
    const { page, errors } = await signIn(context, VIEWER)
    assert.ok((await kpi(page, 'visitors')) > 1000, 'the demo traffic is there')
    await page.screenshot({ path: `${artifacts}/dashboard-${name}.png`, fullPage: name === 'desktop' })
    // The first screen, as the README shows it.
    if (name === 'desktop') await page.screenshot({ path: `${artifacts}/dashboard-overview.png` })
    assert.deepEqual(errors, [])
    await context.close()
  }
})

const axePath = repoRoot + '/node_modules/axe-core/axe.min.js'
async function axe(page) {
  await page.addScriptTag({ path: axePath })
  return page.evaluate(async () => (await axe.run(document)).violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) })))
}

test('axe-core finds no violation on the sign-in page or the dashboard, at desktop and phone width', async () => {
  for (const viewport of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    // The audit's script is injected inline, which the dashboard's policy forbids.
    const context = await browser.newContext({ viewport, bypassCSP: true })
    const page = await context.newPage()
    await page.goto(collector.url + '/dashboard/')
    await page.locator('#token').waitFor()
    assert.deepEqual(await axe(page), [], `sign-in at ${viewport.width}px`)
    await page.fill('#token', VIEWER)
    await page.click('button[type=submit]')
    await page.locator('#panels').waitFor()
    await ready(page)
    assert.deepEqual(await axe(page), [], `dashboard at ${viewport.width}px`)
    // Everything is reachable with the keyboard: the first row of a list takes focus and Enter filters by it.
    await page.locator('table[data-dimension=page] tbody tr button').first().focus()
    await page.keyboard.press('Enter')
    await ready(page)
    assert.match(await page.locator('.filters').innerText(), /Page is/)
    await context.close()
  }
})
