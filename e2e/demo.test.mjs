// The demo shop served by `assent serve` at `/`, screenshot-tested: the consent banner
// (@assent/banner), the panel, session replay of the demo's own session, the favicon.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { test } from 'node:test'
import { launchChromium } from './harness/browser.mjs'
import { repoRoot, startCollector } from './harness/collector.mjs'
import { after, before } from 'node:test'

const artifacts = repoRoot + '/e2e/artifacts'
let collector, browser
before(async () => {
  mkdirSync(artifacts, { recursive: true })
  collector = await startCollector()
  browser = await launchChromium()
})
after(async () => {
  await browser?.close()
  await collector?.stop()
})

const panel = (page, id) => page.locator('#' + id).innerText()
const bannerButton = (page, layer, act) => page.locator(`assent-banner dialog.${layer} [data-act=${act}]`)

/** The replays the playback page lists (admin API), once one for `sessionId` is stored. */
async function waitForReplay(sessionId) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(collector.url + '/v1/admin/replays', { headers: { authorization: 'Bearer sk_demo' } })
    const body = await res.json()
    if ((body.replays || []).some((r) => JSON.stringify(r).includes(String(sessionId)))) return body.replays
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('no replay of the demo session ' + sessionId)
}

test('the demo serves its favicon and the banner bundle', async () => {
  const icon = await fetch(collector.url + '/favicon.svg')
  assert.equal(icon.status, 200)
  assert.match(icon.headers.get('content-type'), /image\/svg\+xml/)
  const banner = await fetch(collector.url + '/sdk/banner/assent-banner.min.js')
  assert.equal(banner.status, 200)
  assert.match(await banner.text(), /AssentBanner/)
  const html = await (await fetch(collector.url + '/')).text()
  assert.match(html, /<link rel="icon" href="\/favicon.svg"/)
})

test('the demo shows the banner, what is stored and what is sent, before and after each choice', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e))
  await page.goto(collector.url + '/')
  await page.locator('assent-banner dialog.first').waitFor()
  await page.click('.product[data-sku="MUG-01"] .add')
  assert.match(await panel(page, 'device'), /nothing stored/, 'before consent: nothing on the device')
  assert.match(await panel(page, 'consent'), /not asked yet/)
  assert.match(await panel(page, 'sent'), /nothing sent yet/, 'held until consent')
  await page.screenshot({ path: artifacts + '/demo-before-consent.png' })

  await bannerButton(page, 'first', 'accept').click()
  await page.click('.product[data-sku="TEE-02"] .add')
  await page.click('#sign-in')
  await page.waitForFunction(() => /Product Added/.test(document.getElementById('sent').innerText) && /HTTP 200/.test(document.getElementById('sent').innerText))
  assert.ok(await page.locator('assent-banner dialog.first').isHidden())
  const device = await panel(page, 'device')
  assert.match(device, /ast_pk_demo_aid/)
  assert.match(device, /ast_pk_demo_consent/)
  const stored = await collector.waitFor((r) => r.filter((x) => x.event === 'Product Added').length === 2, `user_id = 'ada' or event = 'Product Added'`)
  assert.ok(stored.every((r) => r.anonymous_id))
  await page.waitForTimeout(1100) // the panel refreshes every second
  await page.screenshot({ path: artifacts + '/demo-after-accept.png' })

  // Per-category choice through the banner, then withdrawal.
  // Accept all granted replay: the demo loaded the recorder, and its session reaches /replay/.
  const sessionId = await page.evaluate(() => assent.sessionId())
  const replays = await waitForReplay(sessionId)
  assert.ok(replays.some((r) => JSON.stringify(r).includes(String(sessionId))), 'the demo session is listed for playback')

  await page.click('#settings')
  await page.locator('assent-banner dialog.second').waitFor()
  assert.ok(await page.locator('assent-banner input[name=marketing]').isChecked(), 'the reopened banner shows the current choice')
  await page.locator('assent-banner input[name=marketing]').uncheck()
  await page.locator('assent-banner input[name=analytics]').check()
  await bannerButton(page, 'second', 'save').click()
  assert.match(await panel(page, 'consent'), /marketing\s+denied/)
  await page.click('#withdraw')
  await page.click('#checkout')
  await page.waitForTimeout(1100)
  assert.doesNotMatch(await panel(page, 'device'), /ast_pk_demo_aid/, 'withdrawal removes the identifiers')
  assert.match(await panel(page, 'sent'), /anonymous request/, 'later events go anonymous (onDeny: anonymous)')
  await page.screenshot({ path: artifacts + '/demo-after-withdraw.png' })

  await page.click('#opt-out')
  await page.waitForTimeout(1100)
  const marker = await panel(page, 'device')
  assert.match(marker, /ast_pk_demo_optout/)
  assert.doesNotMatch(marker, /ast_pk_demo_consent|ast_pk_demo_aid/)
  assert.deepEqual(errors, [])
  await context.close()
})
