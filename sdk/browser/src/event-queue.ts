import type { QueuedEvent } from './event'

/**
 * Events waiting for delivery, oldest first, capped: past the cap the oldest are dropped and
 * counted (a retry queue must never grow without bound and break the host page).
 * Persistence is injected: the tracker decides whether the device may keep the queue.
 */
export class EventQueue {
  items: QueuedEvent[] = []
  /** Events dropped because the queue was full. */
  overflowed = 0
  /** The queued events' size, kept as they come and go: delivery asks after every event. */
  bytes = 0

  #max: number
  #onChange: () => void

  constructor(max: number, onChange: () => void) {
    this.#max = max
    this.#onChange = onChange
  }

  push(item: QueuedEvent): void {
    this.items.push(item)
    this.bytes += item.bytes
    this.#trim()
  }

  /** Put events found on the device (from an earlier page) in front, skipping any we already hold. */
  adopt(stored: QueuedEvent[]): void {
    const known = new Set(this.items.map((i) => i.event.messageId))
    const fresh = stored.filter((i) => i && i.event && !known.has(i.event.messageId))
    if (!fresh.length) return
    this.items = fresh.concat(this.items)
    this.#changed()
  }

  /** Past the cap the oldest go, and are counted. */
  #trim(): void {
    const excess = this.items.length - this.#max
    if (excess > 0) {
      for (const gone of this.items.splice(0, excess)) this.bytes -= gone.bytes
      this.overflowed += excess
    }
    this.#onChange()
  }

  remove(messageIds: Set<string>): void {
    const before = this.items.length
    this.items = this.items.filter((i) => !messageIds.has(i.event.messageId))
    if (this.items.length !== before) this.#changed()
  }

  /**
   * Drop every event whose content depends on `category`; returns how many went.
   * `rescue` may return a cleaned copy to keep instead (a consent event is proof, not tracking).
   */
  purge(category: string, rescue: (item: QueuedEvent) => QueuedEvent | undefined = () => undefined): number {
    let touched = false
    let dropped = 0
    const kept: QueuedEvent[] = []
    for (const item of this.items) {
      const keep = item.needs.includes(category) ? rescue(item) : item
      if (keep !== item) touched = true
      if (keep) kept.push(keep)
      else dropped++
    }
    if (touched) {
      this.items = kept
      this.#changed()
    }
    return dropped
  }

  clear(): void {
    this.items = []
    this.#changed()
  }

  /** After a change of many events at once: count the bytes again, then trim. */
  #changed(): void {
    this.bytes = 0
    for (const i of this.items) this.bytes += i.bytes
    this.#trim()
  }
}
