/**
 * What the recorder may see, as rrweb options. rrweb asks `maskInputFn` about every input
 * (`maskAllInputs`) and `maskTextFn` about text under `maskTextSelector`; both functions then
 * decide with the same rules:
 *
 * 1. password, card and one-time-code fields are always masked, even in an unmasked region;
 * 2. otherwise the innermost of a mask region (`.ast-mask`, `maskSelector`) and an unmask
 *    region (`.ast-unmask`, `unmaskSelector`) decides;
 * 3. otherwise the level: `light` masks nothing else, `medium` every input (contenteditable
 *    included: it is where people type), `conservative` every input and all text.
 */
export type MaskLevel = 'light' | 'medium' | 'conservative'

export interface MaskingRules {
  maskLevel: MaskLevel
  blockSelector?: string
  maskSelector?: string
  unmaskSelector?: string
}

/** The rrweb record options that implement the rules. */
export interface RrwebMasking {
  blockClass: string
  blockSelector: string
  maskAllInputs: true
  maskInputFn: (text: string, element: HTMLElement) => string
  maskTextSelector: string
  maskTextFn: (text: string, element: HTMLElement | null) => string
}

/** Fields masked whatever the rules say. `data-rr-is-password` is rrweb's mark on a password field shown as text. */
const SENSITIVE_SELECTOR =
  'input[type=password],[data-rr-is-password],[autocomplete^="cc-"],[autocomplete="one-time-code"],[autocomplete="current-password"],[autocomplete="new-password"]'
/** Names, ids and labels that give away a card, bank or password field without the right autocomplete. */
const SENSITIVE_HINT = /passw|passwd|pwd|card|cc-?(num|number|csc|cvc|exp)|cvv|cvc|csc|security.?code|iban|ssn/i
const EDITABLE = '[contenteditable]:not([contenteditable="false"])'

function join(...selectors: Array<string | undefined>): string {
  return selectors.filter(Boolean).join(',')
}

export function isSensitiveField(element: Element): boolean {
  if (element.matches(SENSITIVE_SELECTOR)) return true
  const hint = ['name', 'id', 'autocomplete', 'aria-label', 'placeholder'].map((a) => element.getAttribute(a) || '').join(' ')
  return SENSITIVE_HINT.test(hint)
}

/** Text keeps its spaces (the replayed layout stays readable); input values keep only their length. */
function mask(text: string): string {
  return text.replace(/\S/g, '*')
}

function maskValue(text: string): string {
  return '*'.repeat(text.length)
}

export function rrwebMasking(rules: MaskingRules): RrwebMasking {
  const maskRegion = join('.ast-mask', rules.maskSelector)
  const unmaskRegion = join('.ast-unmask', rules.unmaskSelector)

  /** Rule 2: `true` masked, `false` unmasked, `undefined` no region says. */
  const regionSays = (element: Element): boolean | undefined => {
    const masked = element.closest(maskRegion)
    const unmasked = element.closest(unmaskRegion)
    if (!unmasked) return masked ? true : undefined
    // The same element in both, or a mask region inside the unmask region: masked.
    return masked ? masked === unmasked || unmasked.contains(masked) : false
  }

  const levelMasksText = (element: Element): boolean =>
    rules.maskLevel === 'conservative' || (rules.maskLevel === 'medium' && element.closest(EDITABLE) !== null)

  return {
    blockClass: 'ast-block',
    // Hidden inputs carry tokens, never anything a replay needs.
    blockSelector: join('input[type=hidden]', rules.blockSelector),
    maskAllInputs: true,
    maskInputFn(text, element) {
      if (isSensitiveField(element)) return maskValue(text)
      const masked = regionSays(element) ?? rules.maskLevel !== 'light'
      return masked ? maskValue(text) : text
    },
    // rrweb calls maskTextFn only for text under this selector; which of it stays masked is
    // decided below, so unmask regions work inside a masked page.
    maskTextSelector: rules.maskLevel === 'conservative' ? '*' : join(maskRegion, rules.maskLevel === 'medium' ? EDITABLE : undefined),
    maskTextFn(text, element) {
      if (!element) return mask(text)
      if (element.closest(EDITABLE) && isSensitiveField(element.closest(EDITABLE) as Element)) return mask(text)
      const masked = regionSays(element) ?? levelMasksText(element)
      return masked ? mask(text) : text
    },
  }
}
