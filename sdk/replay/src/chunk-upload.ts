/**
 * Sends compressed chunks to `POST /v1/replay`, one at a time and in order, retrying like the
 * tracker does with its events: network errors, 408, 429 and 5xx back off exponentially with
 * full jitter (honouring `Retry-After`); other answers are final. Chunks wait in memory only,
 * never on the device, and `discard()` forgets them at once (a withdrawal of `replay`).
 */
export interface Chunk {
  seq: number
  body: Uint8Array<ArrayBuffer>
}

/** What a keepalive request may carry in Chromium, summed over those in flight. */
const KEEPALIVE_BYTES = 60_000
const RETRY_BASE_MS = 1000
const RETRY_MAX_MS = 60_000

export interface UploadStats {
  sent: number
  retries: number
  /** Chunks forgotten: over the pending cap, refused by the collector, or discarded on withdrawal. */
  dropped: number
}

function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500
}

function retryAfterMs(header: string | null, now: number): number {
  if (!header) return 0
  const seconds = Number(header)
  if (!isNaN(seconds)) return seconds * 1000
  const at = Date.parse(header)
  return isNaN(at) ? 0 : Math.max(0, at - now)
}

export class ChunkUploader {
  readonly stats: UploadStats = { sent: 0, retries: 0, dropped: 0 }
  #url: string
  #maxPending: number
  #pending: Chunk[] = []
  #sending = false
  #attempt = 0
  #timer?: ReturnType<typeof setTimeout>
  #requests = new Set<AbortController>()
  /** Bumped by discard(): answers to requests sent before it are ignored. */
  #generation = 0

  constructor(url: string, maxPending: number) {
    this.#url = url
    this.#maxPending = maxPending
  }

  /** Queue a chunk; `send` false only queues it (the page is leaving: flushOnExit sends it). */
  push(chunk: Chunk, send = true): void {
    this.#pending.push(chunk)
    if (this.#pending.length > this.#maxPending) {
      this.#pending.splice(this.#sending ? 1 : 0, 1)
      this.stats.dropped++
    }
    if (send) this.#next()
  }

  /** The page is going away: every waiting chunk leaves now in keepalive requests (the collector drops repeats). */
  flushOnExit(): void {
    let budget = KEEPALIVE_BYTES
    for (const chunk of this.#pending) {
      if (chunk.body.length > budget) continue
      budget -= chunk.body.length
      this.#send(chunk, true).catch(() => {})
    }
  }

  /** Forget every chunk not yet delivered and cancel requests in flight. */
  discard(): void {
    this.#generation++
    this.stats.dropped += this.#pending.length
    this.#pending = []
    this.#sending = false
    this.#attempt = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const request of this.#requests) request.abort()
    this.#requests.clear()
  }

  #next(): void {
    if (this.#sending || this.#timer !== undefined || !this.#pending.length) return
    const chunk = this.#pending[0]
    const generation = this.#generation
    this.#sending = true
    this.#send(chunk, false).then(({ status, retryAfter }) => {
      if (generation !== this.#generation) return
      this.#sending = false
      if (!retryable(status)) {
        if (status >= 300) {
          console.warn(`[assent-replay] the collector refused a replay chunk (${status}); dropped`)
          this.stats.dropped++
        } else this.stats.sent++
        this.#attempt = 0
        this.#pending.splice(this.#pending.indexOf(chunk), 1)
        return this.#next()
      }
      this.stats.retries++
      const now = Date.now()
      const backoff = Math.random() * Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#attempt++, 30))
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#next()
      }, Math.max(backoff, retryAfterMs(retryAfter, now)))
    })
  }

  async #send(chunk: Chunk, keepalive: boolean): Promise<{ status: number; retryAfter: string | null }> {
    const request = new AbortController()
    this.#requests.add(request)
    try {
      // text/plain keeps it a simple request: no preflight, which a keepalive request at
      // pagehide could not afford. The collector reads the body whatever its type.
      const res = await fetch(this.#url, {
        method: 'POST',
        body: chunk.body,
        headers: { 'Content-Type': 'text/plain' },
        credentials: 'omit',
        keepalive,
        signal: request.signal,
      })
      return { status: res.status, retryAfter: res.headers.get('Retry-After') }
    } catch {
      return { status: 0, retryAfter: null }
    } finally {
      this.#requests.delete(request)
    }
  }
}
