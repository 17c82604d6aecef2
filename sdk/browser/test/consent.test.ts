import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CATEGORIES, Consent, ConsentPolicy, expiresAt } from '../src/consent'

const DAY = 86_400_000
const policy = (over: Partial<ConsentPolicy> = {}): ConsentPolicy => ({
  mode: 'opt-in',
  categories: CATEGORIES.concat('chat'),
  revision: 1,
  expiryDays: { granted: 395, denied: 182 },
  ...over,
})

test('opt-in: every category but necessary starts pending, and pending is not consent', () => {
  const c = new Consent(policy(), 'id-1')
  assert.equal(c.state.necessary, 'granted')
  for (const k of ['analytics', 'functional', 'marketing', 'replay', 'chat']) {
    assert.equal(c.state[k], 'pending')
    assert.equal(c.allows(k), false)
  }
  assert.equal(c.allows('necessary'), true)
  assert.equal(c.snapshot().decided, false, 'not asked yet is distinguishable from declined')
})

test('opt-out: pending counts as granted, an explicit denial does not', () => {
  const c = new Consent(policy({ mode: 'opt-out' }), 'id')
  assert.equal(c.allows('analytics'), true)
  c.update({ analytics: 'denied' }, 'banner', 5)
  assert.equal(c.allows('analytics'), false)
})

test('update reports exactly the categories whose permission flipped', () => {
  const c = new Consent(policy(), 'id')
  assert.deepEqual(c.update({ analytics: 'granted', marketing: 'granted' }, 'banner', 10), { granted: ['analytics', 'marketing'], withdrawn: [] })
  assert.deepEqual(c.update({ analytics: 'granted', marketing: 'denied' }, 'banner', 20), { granted: [], withdrawn: ['marketing'] })
  assert.deepEqual(c.update({ analytics: 'pending' }, 'api', 30), { granted: [], withdrawn: ['analytics'] })
  const s = c.snapshot()
  assert.equal(s.source, 'api')
  assert.equal(s.timestamp, 30)
  assert.equal(s.decided, true)
})

test('necessary cannot be denied and unknown values are ignored', () => {
  const c = new Consent(policy(), 'id')
  c.update({ necessary: 'denied', analytics: 'yes' as never }, 'api', 1)
  assert.equal(c.state.necessary, 'granted')
  assert.equal(c.state.analytics, 'pending')
})

test('a stored record is restored while valid', () => {
  const c = new Consent(policy(), 'fresh-id')
  c.restore({ id: 'stored', state: { analytics: 'granted', marketing: 'denied' }, revision: 1, source: 'banner', timestamp: 1000 }, 1000 + DAY)
  assert.equal(c.id, 'stored')
  assert.equal(c.allows('analytics'), true)
  assert.equal(c.state.marketing, 'denied')
  assert.equal(c.snapshot().source, 'banner')
})

test('a new policy revision means asking again, keeping the consent id', () => {
  const c = new Consent(policy({ revision: 2 }), 'fresh-id')
  c.restore({ id: 'stored', state: { analytics: 'granted' }, revision: 1, source: 'banner', timestamp: 1000 }, 2000)
  assert.equal(c.id, 'stored')
  assert.equal(c.state.analytics, 'pending')
  assert.equal(c.snapshot().decided, false)
})

test('an acceptance expires after 13 months, a refusal after 6', () => {
  const p = policy()
  const accepted = { id: 'a', state: { analytics: 'granted' as const }, revision: 1, source: 'banner', timestamp: 0 }
  const refused = { id: 'r', state: { analytics: 'denied' as const }, revision: 1, source: 'banner', timestamp: 0 }
  assert.equal(expiresAt(accepted, p), 395 * DAY)
  assert.equal(expiresAt(refused, p), 182 * DAY)
  const c = new Consent(p, 'x')
  c.restore(refused, 183 * DAY)
  assert.equal(c.state.analytics, 'pending', 'expired refusal: ask again')
  const d = new Consent(p, 'x')
  d.restore(refused, 181 * DAY)
  assert.equal(d.state.analytics, 'denied')
})

test('a forced denial (GPC) overrides an earlier grant, and no later choice lifts it', () => {
  const c = new Consent(policy(), 'id')
  assert.equal(c.force('marketing', 'gpc', 1), false, 'nothing was granted: nothing to record')
  assert.equal(c.state.marketing, 'denied')
  assert.equal(c.snapshot().source, 'gpc')
  const d = new Consent(policy(), 'id')
  d.restore({ id: 'id', state: { analytics: 'granted', marketing: 'granted' }, revision: 1, source: 'banner', timestamp: 1 }, 2)
  assert.equal(d.force('marketing', 'gpc', 9), true, 'an explicit grant was overridden: a change for the ledger')
  assert.equal(d.allows('marketing'), false)
  assert.deepEqual([d.snapshot().source, d.snapshot().timestamp], ['gpc', 9], 'made by the signal, now')
  assert.deepEqual(d.update({ marketing: 'granted' }, 'banner', 3), { granted: [], withdrawn: [] })
  assert.equal(d.state.marketing, 'denied')
  d.reset()
  assert.equal(d.state.marketing, 'denied', 'a reset (optIn) keeps the signal')
  assert.equal(d.state.analytics, 'pending')
})

test('reset forgets the choice but keeps the consent id: the visitor is "not asked yet" again', () => {
  const c = new Consent(policy(), 'id-7')
  c.update({ analytics: 'granted', marketing: 'granted' }, 'banner', 5)
  c.reset()
  assert.deepEqual(
    Object.values(c.snapshot().state).filter((v) => v !== 'pending'),
    ['granted'],
    'only necessary stays granted',
  )
  assert.equal(c.snapshot().decided, false)
  assert.equal(c.snapshot().id, 'id-7')
})

test('events share one snapshot until the consent changes', () => {
  const c = new Consent(policy(), 'id')
  const first = c.shared()
  assert.equal(c.shared(), first)
  c.update({ analytics: 'granted' }, 'banner', 1)
  const second = c.shared()
  assert.notEqual(second, first)
  assert.equal(first.state.analytics, 'pending', 'an event captured before the change keeps what it was captured under')
  assert.equal(second.state.analytics, 'granted')
  c.id = 'other'
  assert.equal(c.shared().id, 'other')
})

test('denyAll denies every category; necessary stays granted', () => {
  const c = new Consent(policy(), 'id')
  c.update({ analytics: 'granted' }, 'banner', 1)
  const { withdrawn } = c.update(c.denyAll(), 'api', 2)
  assert.deepEqual(withdrawn, ['analytics'])
  assert.equal(c.state.necessary, 'granted')
  assert.ok(Object.keys(c.state).filter((k) => k !== 'necessary').every((k) => c.state[k] === 'denied'))
})

test('a corrupt record is ignored', () => {
  const c = new Consent(policy(), 'id')
  c.restore({ id: '', state: null } as never, 1)
  c.restore(undefined, 1)
  assert.equal(c.id, 'id')
  assert.equal(c.state.analytics, 'pending')
})
