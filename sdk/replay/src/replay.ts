import { record } from '@rrweb/record'
import { Chunk, ChunkUploader, UploadStats } from './chunk-upload'
import { canCompress, gzip } from './compress'
import type { ReplayHost } from './host'
import { rrwebMasking } from './masking'
import type { ResolvedReplayOptions } from './options'
import { isSampled } from './sampling'

declare const __VERSION__: string

/** The collector refuses bigger chunks (413); the recorder splits before that. */
const MAX_CHUNK_BYTES = 512 * 1024
/** Inflated JSON per chunk, kept well under the collector's 8 MB. */
const MAX_CHUNK_JSON = 4 * 1024 * 1024
/** A chunk is cut early when this many events are waiting. */
const MAX_BUFFERED_EVENTS = 2000
/** How often, at most, recording checks that the tracker still allows it (anonymous levels send no event). */
const RECHECK_MS = 1000

/** An rrweb event: only its time matters here. */
interface RecordedEvent {
  timestamp: number
}

export interface ReplayStats extends UploadStats {
  recording: boolean
  /** The session being recorded, if any. */
  sessionId?: number
}

/**
 * Records the page with rrweb while, and only while, the tracker allows it: `replay` granted,
 * not opted out, identified tracking (a session id), and the session sampled. Anything else
 * stops the recorder at once and discards what it has not sent.
 */
export class Replay {
  #host: ReplayHost
  #opts: ResolvedReplayOptions
  #uploader: ChunkUploader
  #stopRecorder?: () => void
  #session?: number
  #buffer: RecordedEvent[] = []
  #lastSeq = -1
  #timer?: ReturnType<typeof setInterval>
  #checkedAt = 0
  /** Bumped whenever what was recorded must be forgotten: chunks still compressing are then dropped. */
  #generation = 0
  #unsubscribe: () => void
  #onPageHide = (): void => this.#leave()
  #onVisibility = (): void => {
    if (document.visibilityState === 'hidden') this.#leave()
  }

  constructor(host: ReplayHost, options: ResolvedReplayOptions) {
    this.#host = host
    this.#opts = options
    this.#uploader = new ChunkUploader(options.endpoint + '/v1/replay', options.maxPendingChunks)
    if (!options.writeKey) console.error('[assent-replay] start() needs the writeKey')
    this.#unsubscribe = host.onConsentChange(() => this.#check())
    addEventListener('pagehide', this.#onPageHide)
    document.addEventListener('visibilitychange', this.#onVisibility)
    this.#check()
  }

  /** Stop for good: nothing more is recorded and what was not sent is discarded. */
  stop(): void {
    this.#halt(true)
    this.#unsubscribe()
    removeEventListener('pagehide', this.#onPageHide)
    document.removeEventListener('visibilitychange', this.#onVisibility)
  }

  /** Send what is buffered now (tests, or a site that knows a good moment). */
  flush(): Promise<void> {
    return this.#cut(false)
  }

  stats(): ReplayStats {
    return { ...this.#uploader.stats, recording: this.#stopRecorder !== undefined, sessionId: this.#session }
  }

  /** The session to record now, or undefined when recording is not allowed. */
  #allowedSession(): number | undefined {
    const host = this.#host
    if (!canCompress() || host.isOptedOut() || host.getConsent().state.replay !== 'granted') return
    // Only identified tracking has a session id: never under an anonymous level or without `analytics`.
    const session = host.sessionId()
    const anonymousId = host.user().anonymousId()
    if (session === undefined || !anonymousId || !isSampled(anonymousId, session, this.#opts.sampleRate)) return
    return session
  }

  /** Start, stop or move to a new session, as the tracker now allows. */
  #check(): void {
    this.#checkedAt = Date.now()
    const session = this.#allowedSession()
    if (session === undefined) return this.#halt(true)
    if (session === this.#session) return
    // A new session (the old one timed out): what belongs to the old one still goes out under it.
    if (this.#stopRecorder) {
      this.#cut(false).catch(() => {})
      this.#halt(false)
    }
    this.#begin(session)
  }

  #begin(session: number): void {
    this.#session = session
    this.#lastSeq = -1
    this.#stopRecorder = record<RecordedEvent>({
      emit: (event) => this.#onEvent(event),
      ...rrwebMasking(this.#opts),
      // Canvas pixels, fonts and images are not needed to understand a session and could hold anything.
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
      slimDOMOptions: 'all',
      sampling: { mousemove: 50, scroll: 150, input: 'last' },
    })
    this.#timer = setInterval(() => this.#cut(false).catch(() => {}), this.#opts.flushIntervalMs)
  }

  #halt(discard: boolean): void {
    if (this.#stopRecorder) this.#stopRecorder()
    this.#stopRecorder = undefined
    clearInterval(this.#timer)
    this.#timer = undefined
    if (discard) {
      this.#session = undefined
      this.#buffer = []
      this.#generation++
      this.#uploader.discard()
    }
  }

  #onEvent(event: RecordedEvent): void {
    if (this.#session === undefined) return
    this.#buffer.push(event)
    if (Date.now() - this.#checkedAt > RECHECK_MS) this.#check()
    if (this.#buffer.length >= MAX_BUFFERED_EVENTS) this.#cut(false).catch(() => {})
  }

  /** pagehide or hidden: the buffer and every waiting chunk leave in keepalive requests. */
  #leave(): void {
    this.#cut(true)
      .catch(() => {})
      .then(() => this.#uploader.flushOnExit())
  }

  /** Turn the buffer into compressed chunks and hand them to the uploader. */
  async #cut(leaving: boolean): Promise<void> {
    if (!this.#buffer.length || this.#session === undefined) return
    // Consent or mode may have changed without an event since the last check.
    if (this.#allowedSession() !== this.#session) return this.#check()
    const session = this.#session
    const events = this.#buffer
    this.#buffer = []
    // Unique within the session across pages and tabs: the chunk's offset in the session (ms),
    // kept increasing on this page. A retry keeps its seq, so the collector stores it once.
    const firstSeq = Math.max(this.#lastSeq + 1, events[0].timestamp - session)
    this.#lastSeq = firstSeq
    const generation = this.#generation
    const consent = this.#host.getConsent()
    const user = this.#host.user()
    const chunks = await compressInParts(events, firstSeq, (part, seq) =>
      JSON.stringify({
        writeKey: this.#opts.writeKey,
        sessionId: session,
        seq,
        anonymousId: user.anonymousId(),
        userId: user.id(),
        consent: { id: consent.id, state: consent.state },
        library: { name: '@assent/replay', version: __VERSION__ },
        events: part,
      }),
    )
    // Withdrawn (or stopped) while compressing: none of it leaves.
    if (generation !== this.#generation) return
    for (const chunk of chunks) {
      this.#lastSeq = Math.max(this.#lastSeq, chunk.seq)
      this.#uploader.push(chunk, !leaving)
    }
  }
}

/** Compress `events` as one chunk, halving it until each part fits the collector's limits. */
async function compressInParts(
  events: RecordedEvent[],
  firstSeq: number,
  serialize: (part: RecordedEvent[], seq: number) => string,
): Promise<Chunk[]> {
  const out: Chunk[] = []
  const parts = [events]
  while (parts.length) {
    const part = parts.shift() as RecordedEvent[]
    const seq = firstSeq + out.length
    const json = serialize(part, seq)
    const body = json.length <= MAX_CHUNK_JSON ? await gzip(json) : undefined
    if (body && body.length <= MAX_CHUNK_BYTES) out.push({ seq, body })
    else if (part.length > 1) parts.unshift(part.slice(0, part.length >> 1), part.slice(part.length >> 1))
    else console.warn('[assent-replay] one recorded event is over the chunk limit; dropped')
  }
  return out
}
