import { backoffDelay, isRetryable, parseRetryAfter } from './backoff'
import { nextBatch } from './batch'
import { QueuedEvent, wantsServerAnonymity } from './event'
import type { EventQueue } from './event-queue'

export interface DeliveryOptions {
  endpoint: string
  writeKey: string
  batchSize: number
  flushIntervalMs: number
  maxBatchBytes: number
  retryBaseMs: number
  retryMaxMs: number
}

/** Counters a site (or the demo panel) can read with `stats()`. */
export interface DeliveryStats {
  sent: number
  retries: number
  /** Events dropped, by reason: `overflow`, `withdrawn`, `optOut`, `tooLarge`, `rejected`, `http_<status>`. */
  dropped: Record<string, number>
}

/** Browsers refuse keepalive bodies past 64 KB in flight; stay under it. */
const KEEPALIVE_BYTES = 60_000

/**
 * Sends the queue to `POST /v1/batch`, one batch at a time, and removes events only once the
 * collector acknowledged them. Failures that may pass (network, 408, 429, 5xx) keep the
 * events and retry with backoff; other 4xx drop the batch with a warning.
 */
export class Delivery {
  #inFlight = new Set<string>()
  #controllers = new Set<AbortController>()
  #timer?: ReturnType<typeof setTimeout>
  /** The timer is set to send a full batch as soon as it may: later events need not touch it. */
  #timerForFull = false
  #attempt = 0
  /** No request before this time: the collector asked us to wait (Retry-After) or we back off. */
  #notBefore = 0
  #draining?: Promise<void>
  /** The wait comes from the collector's Retry-After, which even an explicit flush honours. */
  #retryAfterActive = false
  /** Events already handed to the browser with keepalive during this page's exit. */
  #keptAlive = new Set<string>()
  /** Set by stop(); also set and cleared by the tracker while it waits for the collector's id (`serverId`). */
  stopped = false

  #opts: DeliveryOptions
  #queue: EventQueue

  constructor(opts: DeliveryOptions, queue: EventQueue, readonly stats: DeliveryStats) {
    this.#opts = opts
    this.#queue = queue
  }

  /** Call after each enqueue: a full batch goes now, anything else within the flush interval. */
  schedule(): void {
    if (this.stopped) return
    const waiting = this.#queue.items.length - this.#inFlight.size
    if (waiting <= 0) return
    if (this.#timer !== undefined && this.#timerForFull) return
    const full = waiting >= this.#opts.batchSize || this.#queue.bytes >= this.#opts.maxBatchBytes
    if (this.#timer !== undefined) {
      if (!full) return
      clearTimeout(this.#timer)
    }
    this.#timerForFull = full
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        void this.flush(false)
      },
      Math.max(full ? 0 : this.#opts.flushIntervalMs, this.#notBefore - Date.now()),
    )
  }

  /**
   * Send everything queued, batch after batch. Resolves when the queue is empty or a batch
   * failed in a way worth retrying (the retry is then scheduled). `explicit` flushes skip our
   * own backoff but never a server's Retry-After.
   */
  flush(explicit = true): Promise<void> {
    if (!this.#draining) {
      this.#draining = this.#drain(explicit).finally(() => {
        this.#draining = undefined
        this.schedule()
      })
      return this.#draining
    }
    // A flush while one runs: wait for it, then send what arrived since.
    return this.#draining.then(() => this.flush(explicit))
  }

  async #drain(explicit: boolean): Promise<void> {
    while (!this.stopped) {
      if (Date.now() < this.#notBefore && (!explicit || this.#retryAfterActive)) return
      const batch = nextBatch(this.#queue.items, this.#inFlight, this.#opts.batchSize, this.#opts.maxBatchBytes)
      if (!batch.length) return
      if (!(await this.#send(batch, false))) return
    }
  }

  /**
   * On pagehide: hand every event to the browser with keepalive, so the last click arrives.
   * Events in an ordinary request go again: the browser cancels those on unload, and the
   * collector ignores a repeated messageId.
   */
  flushOnExit(): void {
    let budget = KEEPALIVE_BYTES
    while (!this.stopped) {
      const batch = nextBatch(this.#queue.items, this.#keptAlive, this.#opts.batchSize, Math.min(budget, this.#opts.maxBatchBytes))
      const bytes = batch.reduce((n, i) => n + i.bytes, 0)
      if (!batch.length || bytes > budget) return
      budget -= bytes
      for (const i of batch) this.#keptAlive.add(i.event.messageId)
      void this.#send(batch, true).then(() => batch.forEach((i) => this.#keptAlive.delete(i.event.messageId)))
    }
  }

  /** Stop for good and cancel requests in flight (opting out stops every request). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const c of this.#controllers) c.abort()
  }

  /** Send one request outside the queue (the final opt-out consent event). */
  sendNow(items: QueuedEvent[]): void {
    void this.#post(items, true).catch(() => undefined)
  }

  #post(batch: QueuedEvent[], keepalive: boolean, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain' }
    if (wantsServerAnonymity(batch[0])) headers['X-Assent-Anonymous'] = '1'
    const body = JSON.stringify({ batch: batch.map((i) => i.event), sentAt: new Date().toISOString(), writeKey: this.#opts.writeKey })
    return fetch(this.#opts.endpoint + '/v1/batch', {
      method: 'POST',
      headers,
      body,
      keepalive,
      signal,
      // Anonymous requests must not carry cookies the browser holds for the collector.
      credentials: headers['X-Assent-Anonymous'] ? 'omit' : 'same-origin',
    })
  }

  /** Returns true when the batch left the queue (sent or dropped), false when it stays to be retried. */
  async #send(batch: QueuedEvent[], keepalive: boolean): Promise<boolean> {
    const ids = new Set(batch.map((i) => i.event.messageId))
    ids.forEach((id) => this.#inFlight.add(id))
    const controller = new AbortController()
    this.#controllers.add(controller)
    let status = 0
    let response: Response | undefined
    try {
      response = await this.#post(batch, keepalive, controller.signal)
      status = response.status
    } catch {
      status = 0 // network error, CORS failure or abort: retry (unless stopped)
    } finally {
      this.#controllers.delete(controller)
      ids.forEach((id) => this.#inFlight.delete(id))
    }
    if (this.stopped) return false
    if (status >= 200 && status < 300) {
      this.#attempt = 0
      this.#retryAfterActive = false
      this.stats.sent += batch.length
      const answer = (await response!.json().catch(() => ({}))) as { rejected?: { index: number; reason: string }[] }
      if (answer.rejected && answer.rejected.length) {
        this.count('rejected', answer.rejected.length)
        console.warn('[assent] collector rejected events:', answer.rejected)
      }
      this.#queue.remove(ids)
      return true
    }
    if (status === 0 || isRetryable(status)) {
      this.#attempt++
      this.stats.retries++
      const retryAfter = response ? parseRetryAfter(response.headers.get('Retry-After'), Date.now()) : undefined
      this.#retryAfterActive = retryAfter !== undefined
      this.#notBefore = Date.now() + (retryAfter ?? backoffDelay(this.#attempt, this.#opts.retryBaseMs, this.#opts.retryMaxMs))
      return false
    }
    this.count('http_' + status, batch.length)
    console.warn(`[assent] collector answered ${status}; dropped ${batch.length} event(s)`)
    this.#queue.remove(ids)
    return true
  }

  count(reason: string, n: number): void {
    if (n > 0) this.stats.dropped[reason] = (this.stats.dropped[reason] || 0) + n
  }
}
