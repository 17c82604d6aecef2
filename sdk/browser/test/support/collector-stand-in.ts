// A real HTTP server on a random port that answers the tracker's requests as the test says and
// records each one: for unit tests of delivery and the tracker, which test the browser side alone
// (the e2e tests run them against the real collector).
import { createServer, IncomingMessage, Server } from 'node:http'

export interface Received {
  at: number
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** The parsed batch of a `POST /v1/batch`. */
  events: Array<Record<string, any>>
}

export interface Answer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

export interface StandIn {
  url: string
  received: Received[]
  /** How the next requests are answered; by default `200 {accepted, rejected: []}`. */
  answer: (req: Received) => Answer
  /** Resolves once `n` requests have arrived. */
  requests(n: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'content-type, x-assent-anonymous',
  'access-control-expose-headers': 'retry-after',
}

/** Serves `page` (HTML) at `/` for browser tests; everything else is the collector's side. */
export async function startStandIn(page = ''): Promise<StandIn> {
  const standIn: StandIn = {
    url: '',
    received: [],
    answer: (req) => ({ status: 200, body: { accepted: req.events.length, rejected: [], duplicates: 0 } }),
    async requests(n, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs
      while (standIn.received.length < n) {
        if (Date.now() > end) throw new Error(`${standIn.received.length} of ${n} requests after ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 10))
      }
      return standIn.received.slice(0, n)
    },
    close: () => new Promise((r) => server.close(() => r())),
  }
  const server: Server = createServer((req, res) => {
    if (req.method === 'OPTIONS') return res.writeHead(204, CORS).end()
    if (req.method === 'GET' && req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page)
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      let events = []
      try {
        events = JSON.parse(body).batch || []
      } catch {
        // not a batch
      }
      const r: Received = { at: Date.now(), method: req.method || '', path: req.url || '', headers: req.headers, body, events }
      standIn.received.push(r)
      const a = standIn.answer(r)
      res.writeHead(a.status, { ...CORS, 'content-type': 'application/json', ...a.headers })
      res.end(a.body === undefined ? '' : JSON.stringify(a.body))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  standIn.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return standIn
}
