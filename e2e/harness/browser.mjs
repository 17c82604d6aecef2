// Debian's Chromium, driven by playwright-core. Never a downloaded browser.
import { chromium } from 'playwright-core'

export const HOSTS = ['www.shop.test', 'blog.shop.test', 'shop.test', 'other.test', 'www.partner.test', 'collect.shop.test']

export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=${HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`,
      ...extraArgs,
    ],
  })
}

/** Everything the tracker could have left on the device, as the browser sees it. */
export async function deviceState(page) {
  const cookies = await page.context().cookies()
  const web = await page.evaluate(async () => {
    const dump = (s) => Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)]))
    const dbs = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : []
    return { localStorage: dump(localStorage), sessionStorage: dump(sessionStorage), indexedDB: dbs }
  })
  return { cookies, ...web }
}

/**
 * The anonymousId in the tracker's stored identity record (`ast_<key>_id`, format 2: JSON,
 * URI-encoded in a cookie), or undefined when there is none.
 */
export function storedAnonymousId(raw) {
  if (raw === undefined || raw === null) return undefined
  return JSON.parse(decodeURIComponent(raw)).aid
}

/**
 * Records every storage write the page makes (cookie setter, Storage.setItem, indexedDB.open)
 * from before any script runs, so a write that was later undone is still caught.
 */
export const RECORD_WRITES = () => {
  const writes = (window.__writes = [])
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() {
      return cookie.get.call(this)
    },
    set(v) {
      writes.push({ kind: 'cookie', value: String(v) })
      cookie.set.call(this, v)
    },
  })
  const setItem = Storage.prototype.setItem
  Storage.prototype.setItem = function (k, v) {
    writes.push({ kind: this === window.localStorage ? 'localStorage' : 'sessionStorage', key: k })
    return setItem.call(this, k, v)
  }
  const open = IDBFactory.prototype.open
  IDBFactory.prototype.open = function (name, v) {
    writes.push({ kind: 'indexedDB', key: name })
    return open.call(this, name, v)
  }
}

/** Requests the page sends to the collector, as seen on the wire, with parsed bodies. */
/**
 * Waits until `count(seen)` reaches `n`. Playwright reports requests asynchronously, so under
 * load the store can have an event before the test process has heard of its request.
 */
export async function waitForRequests(seen, count, n, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (count(seen) < n) {
    if (Date.now() > deadline) throw new Error(`only ${count(seen)} of ${n} recorded requests' events after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export function recordBatches(page, collectorUrl) {
  const seen = []
  // On the context, not the page: a keepalive request sent while the page unloads still counts.
  page.context().on('request', (req) => {
    if (!req.url().startsWith(collectorUrl) || req.method() !== 'POST') return
    let body
    try {
      body = JSON.parse(req.postData() || '{}')
    } catch {
      body = {}
    }
    seen.push({ url: req.url(), headers: req.headers(), body, events: body.batch || [] })
  })
  return seen
}
