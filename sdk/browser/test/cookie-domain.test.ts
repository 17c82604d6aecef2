import assert from 'node:assert/strict'
import { test } from 'node:test'
import { domainCandidates } from '../src/cookie-domain'

test('candidates run from the widest parent domain to the host itself', () => {
  assert.deepEqual(domainCandidates('www.shop.test'), ['shop.test', 'www.shop.test'])
  assert.deepEqual(domainCandidates('a.b.shop.co.uk'), ['co.uk', 'shop.co.uk', 'b.shop.co.uk', 'a.b.shop.co.uk'])
  assert.deepEqual(domainCandidates('Shop.Test.'), ['shop.test'])
})

test('IP addresses and single-label hosts get host-only cookies', () => {
  assert.deepEqual(domainCandidates('localhost'), [])
  assert.deepEqual(domainCandidates('127.0.0.1'), [])
  assert.deepEqual(domainCandidates('::1'), [])
  assert.deepEqual(domainCandidates('[2001:db8::1]'), [])
})
