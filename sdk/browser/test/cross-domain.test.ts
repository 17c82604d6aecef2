import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readLinkedId } from '../src/cross-domain'

const ID = '0b7e8d3c-9a1f-4c2e-8d6b-5f4a3b2c1d0e'
const NOW = 1_800_000_000_000

test('a fresh link carries the id', () => {
  assert.equal(readLinkedId(`https://b.test/?ast_xd=${ID}.${NOW - 5000}`, NOW, 120_000), ID)
})

test('a stale, future or malformed link carries nothing', () => {
  assert.equal(readLinkedId(`https://b.test/?ast_xd=${ID}.${NOW - 121_000}`, NOW, 120_000), undefined)
  assert.equal(readLinkedId(`https://b.test/?ast_xd=${ID}.${NOW + 3_600_000}`, NOW, 120_000), undefined)
  assert.equal(readLinkedId(`https://b.test/?ast_xd=${ID}`, NOW, 120_000), undefined)
  assert.equal(readLinkedId(`https://b.test/?ast_xd=<script>.${NOW}`, NOW, 120_000), undefined)
  assert.equal(readLinkedId('https://b.test/', NOW, 120_000), undefined)
  assert.equal(readLinkedId('not a url', NOW, 120_000), undefined)
})
