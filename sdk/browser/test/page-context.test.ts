import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CLICK_ID_PARAMS, stripParams } from '../src/page-context'

test('click ids and the link parameter are cut; everything else is kept as it was', () => {
  assert.deepEqual(stripParams('https://s.test/p?utm_source=x&gclid=abc&q=1#top', CLICK_ID_PARAMS), { url: 'https://s.test/p?utm_source=x&q=1#top', removed: true })
  assert.deepEqual(stripParams('https://s.test/p?fbclid=1', CLICK_ID_PARAMS), { url: 'https://s.test/p', removed: true })
  assert.deepEqual(stripParams('?ast_xd=a.1&x=2', ['ast_xd']), { url: '?x=2', removed: true })
  assert.deepEqual(stripParams('https://s.test/p?q=a%20b', CLICK_ID_PARAMS), { url: 'https://s.test/p?q=a%20b', removed: false })
  assert.deepEqual(stripParams('', CLICK_ID_PARAMS), { url: '', removed: false })
})
