import { batchKey, QueuedEvent } from './event'

/**
 * The next batch to send: the oldest event not already in flight, then every later event of
 * the same anonymity (see `batchKey`) up to the count and byte
 * limits. A single event larger than the byte limit still goes alone; the collector judges it.
 */
export function nextBatch(items: QueuedEvent[], inFlight: Set<string>, maxCount: number, maxBytes: number): QueuedEvent[] {
  const batch: QueuedEvent[] = []
  let bytes = 0
  let key: string | undefined
  for (const item of items) {
    if (inFlight.has(item.event.messageId)) continue
    if (key === undefined) key = batchKey(item)
    else if (batchKey(item) !== key) continue
    if (batch.length && bytes + item.bytes > maxBytes) break
    batch.push(item)
    bytes += item.bytes
    if (batch.length >= maxCount) break
  }
  return batch
}
