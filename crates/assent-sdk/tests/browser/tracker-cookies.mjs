// Used by tests/browser_cookies.rs: runs the real browser tracker in Debian's Chromium (the
// end-to-end harness of e2e/), makes a visitor's choices in each scenario, and prints what
// the browser recorded (the tracker's own answers) and the Cookie header it then sends to
// the site's backend, as JSON on stdout.
//   node tracker-cookies.mjs <collector url> <write key> <revision>
// ASSENT_TRACKER_BUNDLE=<path of an assent.min.js> runs another build of the tracker (one
// with a changed stored format, say) instead of sdk/browser/dist's.
import { readFileSync } from 'node:fs'
import { launchChromium } from '../../../../e2e/harness/browser.mjs'
import { startSite } from '../../../../e2e/harness/site.mjs'

const [collectorUrl, writeKey, revision] = process.argv.slice(2)

const routes = {
  // The site's backend: answers with the Cookie header it received, as a server using the SDK gets it.
  '/backend': (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(req.headers.cookie || '')
  },
}
const bundle = process.env.ASSENT_TRACKER_BUNDLE
if (bundle)
  routes['/assent.min.js'] = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
    res.end(readFileSync(bundle))
  }
const site = await startSite(routes)
const browser = await launchChromium()

const SCENARIOS = {
  granted: async () => {
    a.setConsent({ analytics: 'granted', marketing: 'denied' }, { source: 'banner' })
    a.identify('user-7', { plan: 'pro' })
    a.group('acme')
    a.track('Browser Viewed')
  },
  denied: async () => {
    a.setConsent({ analytics: 'denied' }, { source: 'banner' })
    a.track('Browser Viewed')
  },
  optedOut: async () => {
    a.setConsent({ analytics: 'granted' }, { source: 'banner' })
    a.track('Browser Viewed')
    await a.flush()
    a.optOut()
  },
}

const out = {}
try {
  for (const [name, act] of Object.entries(SCENARIOS)) {
    const context = await browser.newContext()
    const page = await context.newPage()
    const init = { writeKey, endpoint: collectorUrl, consent: { revision: Number(revision) }, delivery: { flushIntervalMs: 50 } }
    await page.goto(site.url('www.shop.test', '/', init))
    await page.evaluate(`(${act.toString()})()`)
    out[name] = await page.evaluate(async () => {
      await a.flush()
      // The session and queue are saved in a microtask after each event.
      await new Promise((r) => setTimeout(r, 50))
      const user = a.user()
      return {
        consent: a.getConsent(),
        optedOut: a.isOptedOut(),
        anonymousId: user.anonymousId() ?? null,
        userId: user.id() ?? null,
        groupId: a.group().id() ?? null,
        cookieHeader: await (await fetch('/backend', { credentials: 'same-origin' })).text(),
      }
    })
    await context.close()
  }
} finally {
  await browser.close()
  await site.stop()
}
process.stdout.write(JSON.stringify(out))
