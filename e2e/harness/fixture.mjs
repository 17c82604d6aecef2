// One collector, one fixture site and one Chromium per test file, and a way to open pages on them.
import { after, before } from 'node:test'
import { startCollector } from './collector.mjs'
import { launchChromium, recordBatches, RECORD_WRITES } from './browser.mjs'
import { startSite } from './site.mjs'

export const WRITE_KEY = 'pk_demo'

export function setup({ routes, browserArgs } = {}) {
  const env = {}
  before(async () => {
    env.collector = await startCollector()
    env.site = await startSite(routes)
    env.browser = await launchChromium(browserArgs)
  })
  after(async () => {
    await env.browser?.close()
    await env.site?.stop()
    await env.collector?.stop()
  })
  /** Tracker options for the collector under test; `over` is merged in. */
  env.config = (over = {}) => ({ writeKey: WRITE_KEY, endpoint: env.collector.url, ...over, delivery: { flushIntervalMs: 50, ...over.delivery } })
  /**
   * A fresh browser profile with a page on `host`. With `init`, the page starts the tracker in
   * <head> (window.a). Storage writes are recorded (window.__writes), requests to the collector too.
   */
  env.open = async ({ host = 'www.shop.test', path = '/', init, initScripts = [], context: contextOptions } = {}) => {
    const context = await env.browser.newContext(contextOptions)
    await context.addInitScript(RECORD_WRITES)
    for (const s of initScripts) await context.addInitScript(s)
    const page = await context.newPage()
    const warnings = []
    page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && warnings.push(m.text()))
    const pageErrors = []
    page.on('pageerror', (e) => pageErrors.push(e))
    const batches = recordBatches(page, env.collector.url)
    await page.goto(env.site.url(host, path, init))
    return { context, page, batches, warnings, pageErrors }
  }
  return env
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
