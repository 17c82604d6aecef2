// test/chunk-upload.test.ts
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";

// src/chunk-upload.ts
var KEEPALIVE_BYTES = 6e4;
var RETRY_BASE_MS = 1e3;
var RETRY_MAX_MS = 6e4;
function retryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}
function retryAfterMs(header, now) {
  if (!header) return 0;
  const seconds = Number(header);
  if (!isNaN(seconds)) return seconds * 1e3;
  const at = Date.parse(header);
  return isNaN(at) ? 0 : Math.max(0, at - now);
}
var ChunkUploader = class {
  constructor(url, maxPending) {
    this.stats = { sent: 0, retries: 0, dropped: 0 };
    this.#pending = [];
    this.#sending = false;
    this.#attempt = 0;
    this.#requests = /* @__PURE__ */ new Set();
    /** Bumped by discard(): answers to requests sent before it are ignored. */
    this.#generation = 0;
    this.#url = url;
    this.#maxPending = maxPending;
  }
  #url;
  #maxPending;
  #pending;
  #sending;
  #attempt;
  #timer;
  #requests;
  #generation;
  /** Queue a chunk; `send` false only queues it (the page is leaving: flushOnExit sends it). */
  push(chunk, send = true) {
    this.#pending.push(chunk);
    if (this.#pending.length > this.#maxPending) {
      this.#pending.splice(this.#sending ? 1 : 0, 1);
      this.stats.dropped++;
    }
    if (send) this.#next();
  }
  /** The page is going away: every waiting chunk leaves now in keepalive requests (the collector drops repeats). */
  flushOnExit() {
    let budget = KEEPALIVE_BYTES;
    for (const chunk of this.#pending) {
      if (chunk.body.length > budget) continue;
      budget -= chunk.body.length;
      this.#send(chunk, true).catch(() => {
      });
    }
  }
  /** Forget every chunk not yet delivered and cancel requests in flight. */
  discard() {
    this.#generation++;
    this.stats.dropped += this.#pending.length;
    this.#pending = [];
    this.#sending = false;
    this.#attempt = 0;
    clearTimeout(this.#timer);
    this.#timer = void 0;
    for (const request of this.#requests) request.abort();
    this.#requests.clear();
  }
  #next() {
    if (this.#sending || this.#timer !== void 0 || !this.#pending.length) return;
    const chunk = this.#pending[0];
    const generation = this.#generation;
    this.#sending = true;
    this.#send(chunk, false).then(({ status, retryAfter }) => {
      if (generation !== this.#generation) return;
      this.#sending = false;
      if (!retryable(status)) {
        if (status >= 300) {
          console.warn(`[assent-replay] the collector refused a replay chunk (${status}); dropped`);
          this.stats.dropped++;
        } else this.stats.sent++;
        this.#attempt = 0;
        this.#pending.splice(this.#pending.indexOf(chunk), 1);
        return this.#next();
      }
      this.stats.retries++;
      const now = Date.now();
      const backoff = Math.random() * Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#attempt++, 30));
      this.#timer = setTimeout(() => {
        this.#timer = void 0;
        this.#next();
      }, Math.max(backoff, retryAfterMs(retryAfter, now)));
    });
  }
  async #send(chunk, keepalive) {
    const request = new AbortController();
    this.#requests.add(request);
    try {
      const res = await fetch(this.#url, {
        method: "POST",
        body: chunk.body,
        headers: { "Content-Type": "text/plain" },
        credentials: "omit",
        keepalive,
        signal: request.signal
      });
      return { status: res.status, retryAfter: res.headers.get("Retry-After") };
    } catch {
      return { status: 0, retryAfter: null };
    } finally {
      this.#requests.delete(request);
    }
  }
};

// src/compress.ts
async function gzip(text) {
  const stream = new CompressionStream("gzip");
  const writer = stream.writable.getWriter();
  writer.write(new TextEncoder().encode(text)).catch(() => {
  });
  writer.close().catch(() => {
  });
  const reader = stream.readable.getReader();
  const parts = [];
  let length = 0;
  for (; ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// test/chunk-upload.test.ts
async function collector(answer) {
  const bodies = [];
  const server = createServer((req, res) => {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => {
      bodies.push(gunzipSync(Buffer.concat(parts)).toString());
      res.writeHead(answer(bodies.length), { "Retry-After": "0" });
      res.end("{}");
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/v1/replay`, bodies, close: () => server.close() };
}
async function until(check, ms = 5e3) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
test("gzip output is real gzip", async () => {
  assert.equal(gunzipSync(await gzip("h\xE9llo replay")).toString(), "h\xE9llo replay");
});
test("a 503 is retried, then the chunks go in order", async () => {
  const c = await collector((n) => n === 1 ? 503 : 200);
  const up = new ChunkUploader(c.url, 20);
  up.push({ seq: 0, body: await gzip("zero") });
  up.push({ seq: 1, body: await gzip("one") });
  await until(() => up.stats.sent === 2);
  assert.deepEqual(c.bodies, ["zero", "zero", "one"]);
  assert.equal(up.stats.retries, 1);
  c.close();
});
test("a 400 is final: the chunk is dropped, the next one goes", async () => {
  const c = await collector((n) => n === 1 ? 400 : 200);
  const up = new ChunkUploader(c.url, 20);
  up.push({ seq: 0, body: await gzip("bad") });
  up.push({ seq: 1, body: await gzip("good") });
  await until(() => up.stats.sent === 1);
  assert.deepEqual(c.bodies, ["bad", "good"]);
  assert.equal(up.stats.dropped, 1);
  c.close();
});
test("discard forgets every waiting chunk: nothing more is sent", async () => {
  const c = await collector(() => 503);
  const up = new ChunkUploader(c.url, 20);
  up.push({ seq: 0, body: await gzip("a") });
  up.push({ seq: 1, body: await gzip("b") });
  await until(() => c.bodies.length >= 1);
  up.discard();
  const seen = c.bodies.length;
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(c.bodies.length, seen);
  assert.equal(up.stats.dropped, 2);
  c.close();
});
test("the pending cap drops the oldest waiting chunk", async () => {
  const c = await collector(() => 503);
  const up = new ChunkUploader(c.url, 2);
  for (const s of ["a", "b", "c"]) up.push({ seq: 0, body: await gzip(s) });
  assert.equal(up.stats.dropped, 1);
  up.discard();
  c.close();
});
