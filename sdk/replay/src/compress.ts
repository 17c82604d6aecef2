/**
 * gzip with the browser's own `CompressionStream`. Only promise reactions are involved (no
 * Blob, no Response), so a chunk compressed in a `pagehide` handler finishes in the same
 * turn's microtasks and can still leave with a keepalive request.
 */
export function canCompress(): boolean {
  return typeof CompressionStream === 'function'
}

export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new CompressionStream('gzip')
  const writer = stream.writable.getWriter()
  // Not awaited: the write resolves only as the output is read below.
  writer.write(new TextEncoder().encode(text)).catch(() => {})
  writer.close().catch(() => {})
  const reader = stream.readable.getReader()
  const parts: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    parts.push(value)
    length += value.length
  }
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
