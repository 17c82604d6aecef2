/** Random bytes for many UUIDs at once: one call to the system's generator costs more than formatting ten ids. */
const POOL = new Uint8Array(256)
let used = 256
const HEX: string[] = []
for (let i = 0; i < 256; i++) HEX.push((i + 0x100).toString(16).slice(1))

/** A random UUID v4: the `messageId`, `anonymousId` and consent id. */
export function uuid(): string {
  if (used > 240) {
    crypto.getRandomValues(POOL)
    used = 0
  }
  const b = POOL.subarray(used, (used += 16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  let s = ''
  for (let i = 0; i < 16; i++) s += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + HEX[b[i]]
  return s
}
