import assert from 'node:assert/strict'
import { test } from 'node:test'
import { askedCategories, CNIL_LIFETIME, everything, followDependencies, fromSwitches, initialSwitches, shouldAsk } from '../src/choice'
import type { ConsentView } from '../src/host'

const DAY = 86_400_000
const NOW = 1_764_500_000_000
const fresh: ConsentView = {
  state: { necessary: 'granted', analytics: 'pending', functional: 'pending', marketing: 'pending', replay: 'pending', newsletter: 'pending' },
  mode: 'opt-in',
  revision: 1,
  source: 'default',
  decided: false,
}
const decided = (state: Record<string, string>, daysAgo: number): ConsentView => ({
  ...fresh,
  state: { ...fresh.state, ...state },
  source: 'banner',
  decided: true,
  timestamp: NOW - daysAgo * DAY,
})

test('a visitor who never chose is asked; one who opted out is not', () => {
  assert.equal(shouldAsk(fresh, false, CNIL_LIFETIME, NOW), true)
  assert.equal(shouldAsk(fresh, true, CNIL_LIFETIME, NOW), false)
})

test('a refusal holds 6 months and an acceptance 13 by default, then the banner asks again', () => {
  const refused = { analytics: 'denied', functional: 'denied', marketing: 'denied', replay: 'denied' }
  assert.equal(shouldAsk(decided(refused, 181), false, CNIL_LIFETIME, NOW), false)
  assert.equal(shouldAsk(decided(refused, 182), false, CNIL_LIFETIME, NOW), true)
  const accepted = { analytics: 'granted' }
  assert.equal(shouldAsk(decided(accepted, 300), false, CNIL_LIFETIME, NOW), false)
  assert.equal(shouldAsk(decided(accepted, 395), false, CNIL_LIFETIME, NOW), true)
})

test('the lifetime is the site’s to shorten', () => {
  assert.equal(shouldAsk(decided({ analytics: 'granted' }, 31), false, { granted: 30, denied: 30 }, NOW), true)
  assert.equal(shouldAsk(decided({ analytics: 'granted' }, 29), false, { granted: 30, denied: 30 }, NOW), false)
})

test('every category but necessary gets a switch, site categories included, unless the site lists its own', () => {
  assert.deepEqual(askedCategories(fresh), ['analytics', 'functional', 'marketing', 'replay', 'newsletter'])
  assert.deepEqual(askedCategories(fresh, ['analytics', 'necessary', 'replay']), ['analytics', 'replay'])
})

test('Accept all grants every asked category but those a browser signal locked; Reject all denies every one', () => {
  const asked = ['analytics', 'marketing', 'replay']
  assert.deepEqual(everything(asked, 'granted', []), { analytics: 'granted', marketing: 'granted', replay: 'granted' })
  assert.deepEqual(everything(asked, 'granted', ['marketing']), { analytics: 'granted', marketing: 'denied', replay: 'granted' })
  assert.deepEqual(everything(asked, 'denied', ['marketing']), { analytics: 'denied', marketing: 'denied', replay: 'denied' })
})

test('Save records each switch, and a locked category stays denied whatever its switch says', () => {
  const on = new Set(['analytics', 'marketing'])
  assert.deepEqual(fromSwitches(['analytics', 'marketing', 'replay'], (c) => on.has(c), ['marketing']), {
    analytics: 'granted',
    marketing: 'denied',
    replay: 'denied',
  })
})

test('no switch is pre-ticked while asking; a holding choice shows as it is when reopened', () => {
  const asked = ['analytics', 'marketing']
  const chosen = decided({ analytics: 'granted', marketing: 'denied' }, 1)
  assert.deepEqual(initialSwitches(chosen, asked, true), { analytics: false, marketing: false })
  assert.deepEqual(initialSwitches(chosen, asked, false), { analytics: true, marketing: false })
  assert.deepEqual(initialSwitches(fresh, asked, false), { analytics: false, marketing: false }, 'pending is not granted')
})

test('session replay switched on brings analytics along; analytics switched off takes replay with it', () => {
  assert.deepEqual(followDependencies({ analytics: false, replay: true }, 'replay'), { analytics: true })
  assert.deepEqual(followDependencies({ analytics: true, replay: true }, 'replay'), {})
  assert.deepEqual(followDependencies({ analytics: false, replay: true }, 'analytics'), { replay: false })
  assert.deepEqual(followDependencies({ analytics: false, replay: false }, 'analytics'), {})
  assert.deepEqual(followDependencies({ replay: true }, 'replay'), {}, 'a site that asks no analytics question gets no hidden switch')
})
