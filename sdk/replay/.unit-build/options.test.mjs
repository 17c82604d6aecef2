// test/options.test.ts
import assert from "node:assert/strict";
import { test } from "node:test";

// src/options.ts
function resolveOptions(options, defaultEndpoint) {
  const rate = options.sampleRate ?? 1;
  return {
    writeKey: String(options.writeKey || ""),
    endpoint: (options.endpoint || defaultEndpoint).replace(/\/+$/, ""),
    sampleRate: rate >= 0 && rate <= 1 ? rate : 1,
    maskLevel: options.maskLevel === "light" || options.maskLevel === "conservative" ? options.maskLevel : "medium",
    blockSelector: options.blockSelector,
    maskSelector: options.maskSelector,
    unmaskSelector: options.unmaskSelector,
    flushIntervalMs: options.flushIntervalMs || 5e3,
    maxPendingChunks: options.maxPendingChunks || 20
  };
}

// test/options.test.ts
test("defaults: everything sampled, inputs masked, 5 s chunks", () => {
  const o = resolveOptions({ writeKey: "pk" }, "https://c.example/");
  assert.equal(o.endpoint, "https://c.example");
  assert.equal(o.sampleRate, 1);
  assert.equal(o.maskLevel, "medium");
  assert.equal(o.flushIntervalMs, 5e3);
});
test("an unknown mask level falls back to medium, never to less masking", () => {
  assert.equal(resolveOptions({ writeKey: "pk", maskLevel: "none" }, "x").maskLevel, "medium");
  assert.equal(resolveOptions({ writeKey: "pk", maskLevel: "conservative" }, "x").maskLevel, "conservative");
});
test("a sample rate out of range is ignored", () => {
  assert.equal(resolveOptions({ writeKey: "pk", sampleRate: 0 }, "x").sampleRate, 0);
  assert.equal(resolveOptions({ writeKey: "pk", sampleRate: 7 }, "x").sampleRate, 1);
});
