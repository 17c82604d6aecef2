// The tracker's half of the one Global Privacy Control rule it shares with the collector:
// spec/policy-vectors.json, table `gpc` (the collector's half: crates/assent-core/tests/policy_vectors.rs).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import vectors from '../../../spec/policy-vectors.json'
import { CATEGORIES, Consent, ConsentMode, ConsentStates, followGpc } from '../src/consent'

interface Case {
  name: string
  rule: 'deny-marketing' | 'opt-out'
  mode: ConsentMode
  gpc: boolean
  state: ConsentStates
  outcome: { stored: boolean; identifiers: boolean; marketing: boolean }
}

test('every case of the shared GPC table holds for the tracker', () => {
  const cases = (vectors as unknown as { gpc: { cases: Case[] } }).gpc.cases
  assert.ok(cases.length >= 8)
  for (const c of cases) {
    const consent = new Consent({ mode: c.mode, categories: CATEGORIES, revision: 1, expiryDays: { granted: 395, denied: 182 } }, 'c1')
    consent.restore({ id: 'c1', state: c.state, revision: 1, source: 'banner', timestamp: Date.now() - 1000 }, Date.now())
    // As the tracker does at load (tracker.ts): the signal, read from the browser, then the rule.
    const signal = c.gpc && followGpc(consent, c.rule === 'opt-out' ? 'optOut' : true, Date.now())
    const stored = signal !== 'optOut'
    const seen = { stored, identifiers: stored && consent.allows('analytics'), marketing: stored && consent.allows('marketing') }
    assert.deepEqual(seen, c.outcome, c.name)
  }
})
