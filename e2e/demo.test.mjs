// Issue 3, point 9: the demo shop served by `assent serve` at `/`, screenshot-tested.
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

test('the demo shows the banner, what is stored and what is sent, before and after each choice', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e))
  await page.goto(collector.url + '/')
  await page.waitForSelector('#banner:not([hidden])')
  await page.click('.product[data-sku="MUG-01"] .add')
  assert.match(await panel(page, 'device'), /nothing stored/, 'before consent: nothing on the device')
  assert.match(await panel(page, 'consent'), /not asked yet/)
  assert.match(await panel(page, 'sent'), /nothing sent yet/, 'held until consent')
  await page.screenshot({ path: artifacts + '/demo-before-consent.png' })

  await page.click('#accept-all')
  await page.click('.product[data-sku="TEE-02"] .add')
  await page.click('#sign-in')
  await page.waitForFunction(() => /Product Added/.test(document.getElementById('sent').innerText) && /HTTP 200/.test(document.getElementById('sent').innerText))
  assert.ok(await page.locator('#banner').isHidden())
  const device = await panel(page, 'device')
  assert.match(device, /ast_pk_demo_id\b/)
  assert.match(device, /ast_pk_demo_consent/)
  const stored = await collector.waitFor((r) => r.filter((x) => x.event === 'Product Added').length === 2, `user_id = 'ada' or event = 'Product Added'`)
  assert.ok(stored.every((r) => r.anonymous_id))
  await page.waitForTimeout(1100) // the panel refreshes every second
  await page.screenshot({ path: artifacts + '/demo-after-accept.png' })

  // Per-category choice through the banner, then withdrawal.
  await page.click('#settings')
  await page.click('#customise')
  await page.uncheck('input[name=marketing]')
  await page.check('input[name=analytics]')
  await page.click('#save')
  assert.match(await panel(page, 'consent'), /marketing\s+denied/)
  await page.click('#withdraw')
  await page.click('#checkout')
  await page.waitForTimeout(1100)
  assert.doesNotMatch(await panel(page, 'device'), /ast_pk_demo_id\b/, 'withdrawal removes the identifiers')
  assert.match(await panel(page, 'sent'), /anonymous request/, 'later events go anonymous (onDeny: anonymous)')
  await page.screenshot({ path: artifacts + '/demo-after-withdraw.png' })

  await page.click('#opt-out')
  await page.waitForTimeout(1100)
  const marker = await panel(page, 'device')
  assert.match(marker, /ast_pk_demo_optout/)
  assert.doesNotMatch(marker, /ast_pk_demo_consent|ast_pk_demo_id\b/)
  assert.deepEqual(errors, [])
  await context.close()
})
