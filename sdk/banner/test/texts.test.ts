import assert from 'node:assert/strict'
import { test } from 'node:test'
import de from '../src/lang/de'
import en from '../src/lang/en'
import es from '../src/lang/es'
import fr from '../src/lang/fr'
import it from '../src/lang/it'
import nl from '../src/lang/nl'
import { categoryText, mergeTexts, pickLanguage } from '../src/texts'

test('the page language wins, matched on its primary subtag; English is the fallback', () => {
  assert.equal(pickLanguage(['en', 'fr'], [undefined, 'fr-CA', 'de']), 'fr')
  assert.equal(pickLanguage(['en', 'fr', 'de'], ['', 'de_AT']), 'de')
  assert.equal(pickLanguage(['en', 'fr'], ['ja', 'pt-BR']), 'en')
  assert.equal(pickLanguage(['en', 'fr'], []), 'en')
})

test('a site overrides any text and adds its own categories without losing the others', () => {
  const t = mergeTexts(en, { accept: 'Allow all', categories: { newsletter: ['Newsletter', 'Tells us which e-mails you open.'] } })
  assert.equal(t.accept, 'Allow all')
  assert.equal(t.reject, 'Reject all')
  assert.deepEqual(t.categories.newsletter, ['Newsletter', 'Tells us which e-mails you open.'])
  assert.equal(t.categories.analytics[0], 'Analytics')
  assert.deepEqual(categoryText(t, 'surveys'), ['Surveys', ''], 'a category without text shows its own name')
})

test('every language pack says everything English says, each category with a name and a purpose', () => {
  const keys = (o: object) => Object.keys(o).sort()
  for (const [name, pack] of Object.entries({ fr, de, es, it, nl })) {
    assert.deepEqual(keys(pack), keys(en), name)
    assert.deepEqual(keys(pack.categories), keys(en.categories), name)
    for (const [c, [label, purpose]] of Object.entries(pack.categories)) assert.ok(label && purpose, `${name}.${c}`)
    assert.ok(pack.choose.endsWith('…'), `${name}: "choose" opens the second layer`)
  }
})
