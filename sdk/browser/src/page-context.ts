/**
 * `context.page` for every event. Ad click ids (gclid, fbclid, …) are marketing data:
 * they are cut from URLs unless `marketing` is granted. Our own cross-domain parameter
 * carries an identifier and is always cut.
 */
export interface PageContext {
  path: string
  referrer: string
  search: string
  title: string
  url: string
}

export const CLICK_ID_PARAMS = ['gclid', 'gbraid', 'wbraid', 'dclid', 'gclsrc', 'fbclid', 'msclkid', 'ttclid', 'twclid', 'li_fat_id', 'epik', 'rdt_cid', 'irclid', 'yclid', 'sccid', 'mc_eid']

/** Remove the named query parameters; `removed` tells whether any was there. */
export function stripParams(url: string, names: string[]): { url: string; removed: boolean } {
  let u: URL
  try {
    u = new URL(url, 'http://x')
  } catch {
    return { url, removed: false }
  }
  const found = names.filter((n) => u.searchParams.has(n))
  if (!found.length) return { url, removed: false }
  for (const n of found) u.searchParams.delete(n)
  // Only the query changes; keep the input's form (absolute URL, or a bare `?search`).
  const q = url.indexOf('?')
  const hash = url.indexOf('#', q)
  const search = u.searchParams.toString()
  return { url: url.slice(0, q) + (search ? '?' + search : '') + (hash < 0 ? '' : url.slice(hash)), removed: true }
}

/**
 * `context.page` as events report it, and whether a click id was kept (then the event needs
 * `marketing`). Parsing URLs is most of an event's cost, so the answer is kept until the page
 * changes. `ownParams` carry identifiers (cross-domain link, device id) and are always cut;
 * an empty name cuts nothing.
 */
export class PageReader {
  #key?: string
  #value!: { page: PageContext; clickIds: boolean }

  constructor(readonly ownParams: string[]) {}

  /** The result is shared by every event until the page changes: never mutate it. */
  read(keepClickIds: boolean): { page: PageContext; clickIds: boolean } {
    // The referrer cannot change during a document's life; the URL and title can.
    const key = `${keepClickIds} ${location.href} ${document.title}`
    if (key !== this.#key) {
      this.#key = key
      this.#value = readPage(keepClickIds, this.ownParams)
    }
    return this.#value
  }
}

function readPage(keepClickIds: boolean, own: string[]): { page: PageContext; clickIds: boolean } {
  const cut = keepClickIds ? own : own.concat(CLICK_ID_PARAMS)
  const url = stripParams(location.href, cut).url
  const referrer = stripParams(document.referrer, cut).url
  const search = stripParams(location.search, cut).url
  const clickIds = keepClickIds && stripParams(location.href, CLICK_ID_PARAMS).removed
  return { page: { path: location.pathname, referrer, search, title: document.title, url }, clickIds }
}

/** An id the page's URL carries in `param`, if it looks like one. */
export function urlParam(param: string): string | undefined {
  const v = param ? new URL(location.href).searchParams.get(param) : null
  return v && /^[\w.:-]{1,128}$/.test(v) ? v : undefined
}
