// A proxy between the page and the real collector that fails requests on demand: answers an
// error itself, resets the connection, or forwards the request and then loses the answer
// (the collector committed, the page never hears it). Every attempt is logged.
import { createServer, request } from 'node:http'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'content-type, x-assent-anonymous',
  'access-control-expose-headers': 'retry-after',
}

/**
 * `decide(req, attemptNumber)` returns 'pass', 'reset', 'lose-answer', or { status, headers }.
 * CORS preflights always pass: the faults under test are the collector's answers.
 */
export async function startFaultProxy(targetUrl, decide) {
  const target = new URL(targetUrl)
  const log = []
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      // `raw` keeps binary bodies (gzip replay chunks) intact; `body` is the text view.
      const entry = { at: Date.now(), method: req.method, url: req.url, body: body.toString(), raw: body, outcome: 'pass' }
      if (req.method === 'POST') log.push(entry)
      const outcome = req.method === 'POST' ? decide(req, log.length) : 'pass'
      entry.outcome = typeof outcome === 'object' ? outcome.status : outcome
      if (outcome === 'reset') return req.socket.destroy()
      if (typeof outcome === 'object') {
        res.writeHead(outcome.status, { ...CORS, 'content-type': 'application/json', ...outcome.headers })
        return res.end(JSON.stringify({ error: 'injected by the fault proxy' }))
      }
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const data = []
          answer.on('data', (c) => data.push(c))
          answer.on('end', () => {
            if (outcome === 'lose-answer') return req.socket.destroy()
            res.writeHead(answer.statusCode, answer.headers)
            res.end(Buffer.concat(data))
          })
        },
      )
      upstream.on('error', () => req.socket.destroy())
      upstream.end(body)
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.()
        server.close(r)
      }),
  }
}
