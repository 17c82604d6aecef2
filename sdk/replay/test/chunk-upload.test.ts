// The uploader against a real HTTP server on a random port: retries, final answers, discard.
import assert from 'node:assert/strict'
import { createServer, IncomingMessage, ServerResponse } from 'node:http'
import { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { ChunkUploader } from '../src/chunk-upload'
import { gzip } from '../src/compress'

async function collector(answer: (n: number) => number): Promise<{ url: string; bodies: string[]; close: () => void }> {
  const bodies: string[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      bodies.push(gunzipSync(Buffer.concat(parts)).toString())
      res.writeHead(answer(bodies.length), { 'Retry-After': '0' })
      res.end('{}')
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/v1/replay`, bodies, close: () => server.close() }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('gzip output is real gzip', async () => {
  assert.equal(gunzipSync(await gzip('héllo replay')).toString(), 'héllo replay')
})

test('a 503 is retried, then the chunks go in order', async () => {
  const c = await collector((n) => (n === 1 ? 503 : 200))
  const up = new ChunkUploader(c.url, 20)
  up.push({ seq: 0, body: await gzip('zero') })
  up.push({ seq: 1, body: await gzip('one') })
  await until(() => up.stats.sent === 2)
  assert.deepEqual(c.bodies, ['zero', 'zero', 'one'])
  assert.equal(up.stats.retries, 1)
  c.close()
})

test('a 400 is final: the chunk is dropped, the next one goes', async () => {
  const c = await collector((n) => (n === 1 ? 400 : 200))
  const up = new ChunkUploader(c.url, 20)
  up.push({ seq: 0, body: await gzip('bad') })
  up.push({ seq: 1, body: await gzip('good') })
  await until(() => up.stats.sent === 1)
  assert.deepEqual(c.bodies, ['bad', 'good'])
  assert.equal(up.stats.dropped, 1)
  c.close()
})

test('discard forgets every waiting chunk: nothing more is sent', async () => {
  const c = await collector(() => 503)
  const up = new ChunkUploader(c.url, 20)
  up.push({ seq: 0, body: await gzip('a') })
  up.push({ seq: 1, body: await gzip('b') })
  await until(() => c.bodies.length >= 1)
  up.discard()
  const seen = c.bodies.length
  await new Promise((r) => setTimeout(r, 1500))
  assert.equal(c.bodies.length, seen)
  assert.equal(up.stats.dropped, 2)
  c.close()
})

test('the pending cap drops the oldest waiting chunk', async () => {
  const c = await collector(() => 503)
  const up = new ChunkUploader(c.url, 2)
  for (const s of ['a', 'b', 'c']) up.push({ seq: 0, body: await gzip(s) })
  assert.equal(up.stats.dropped, 1)
  up.discard()
  c.close()
})
