/** A random UUID v4: the `messageId`, `anonymousId` and consent id. */
export function uuid(): string {
  // randomUUID only exists in secure contexts (https, localhost); plain-http sites still need ids.
  if (crypto.randomUUID) return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  let s = ''
  for (let i = 0; i < 16; i++) s += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + (b[i] + 0x100).toString(16).slice(1)
  return s
}
