import type { BannerTexts } from '../texts'

/** English (built in). The replay wording follows the templates in docs/session-replay.md. */
const en: BannerTexts = {
  title: 'Your privacy, your choice',
  body: 'With your consent we measure how this site is used, remember your settings, show relevant ads and record visits to fix problems (never what you type). Nothing is stored on your device until you choose, and you can change your mind at any time under “Privacy choices”.',
  accept: 'Accept all',
  reject: 'Reject all',
  choose: 'Choose…',
  settings: 'Choose what you allow',
  save: 'Save choices',
  close: 'Close',
  policy: 'Privacy policy',
  alwaysOn: 'Always on',
  gpc: 'Your browser’s Global Privacy Control signal was applied: marketing stays off.',
  optedOut: 'You opted out: nothing is collected. Allow something below to opt back in.',
  reopen: 'Privacy choices',
  categories: {
    necessary: ['Necessary', 'Keeps the choices you make here.'],
    analytics: ['Analytics', 'Counts visits and clicks under a random identifier, to see what works.'],
    functional: ['Functional', 'Remembers your settings between visits.'],
    marketing: ['Marketing', 'Links your visits across our sites and to the ads that brought you here.'],
    replay: ['Session replay', 'Records your visit so we can watch it back and fix problems. What you type is hidden.'],
  },
}
export default en
