// test/sampling.test.ts
import assert from "node:assert/strict";
import { test } from "node:test";

// src/sampling.ts
function isSampled(anonymousId, sessionId, sampleRate) {
  if (sampleRate >= 1) return true;
  if (sampleRate <= 0) return false;
  return fnv1a(anonymousId + "." + sessionId) / 4294967296 < sampleRate;
}
function fnv1a(text) {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash;
}

// test/sampling.test.ts
test("a session is always or never recorded at the edges", () => {
  assert.equal(isSampled("a", 1, 1), true);
  assert.equal(isSampled("a", 1, 0), false);
});
test("the decision is the same every time it is asked for one session", () => {
  for (let i = 0; i < 50; i++) {
    const first = isSampled("visitor-" + i, 17645e8 + i, 0.5);
    for (let j = 0; j < 3; j++) assert.equal(isSampled("visitor-" + i, 17645e8 + i, 0.5), first);
  }
});
test("the share of sampled sessions follows sampleRate", () => {
  let sampled = 0;
  const n = 2e4;
  for (let i = 0; i < n; i++) if (isSampled(`anon-${i * 7919}`, 17645e8 + i * 1e3, 0.2)) sampled++;
  assert.ok(Math.abs(sampled / n - 0.2) < 0.02, `sampled ${sampled} of ${n}`);
});
test("a new session of the same visitor draws again", () => {
  const draws = /* @__PURE__ */ new Set();
  for (let s = 0; s < 40; s++) draws.add(isSampled("same-visitor", 17645e8 + s * 18e5, 0.5));
  assert.equal(draws.size, 2);
});
