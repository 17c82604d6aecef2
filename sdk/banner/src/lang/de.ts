import type { BannerTexts } from '../texts'

/** Deutsch (Zusatzpaket). */
const de: BannerTexts = {
  title: 'Ihre Daten, Ihre Wahl',
  body: 'Mit Ihrer Einwilligung messen wir, wie diese Website genutzt wird, speichern Ihre Einstellungen, zeigen passende Werbung und zeichnen Besuche auf, um Fehler zu beheben (nie Ihre Eingaben). Bis zu Ihrer Wahl wird nichts auf Ihrem Gerät gespeichert, und Sie können sie jederzeit unter „Datenschutz-Einstellungen“ ändern.',
  accept: 'Alle akzeptieren',
  reject: 'Alle ablehnen',
  choose: 'Auswählen…',
  settings: 'Wählen Sie, was Sie erlauben',
  save: 'Auswahl speichern',
  close: 'Schließen',
  policy: 'Datenschutzerklärung',
  alwaysOn: 'Immer aktiv',
  gpc: 'Das Global-Privacy-Control-Signal Ihres Browsers wurde angewendet: Marketing bleibt aus.',
  optedOut: 'Sie haben widersprochen: Es wird nichts erfasst. Erlauben Sie unten etwas, um das zu ändern.',
  reopen: 'Datenschutz-Einstellungen',
  categories: {
    necessary: ['Notwendig', 'Speichert die Auswahl, die Sie hier treffen.'],
    analytics: ['Statistik', 'Zählt Besuche und Klicks unter einer zufälligen Kennung, um zu sehen, was funktioniert.'],
    functional: ['Funktional', 'Merkt sich Ihre Einstellungen zwischen Besuchen.'],
    marketing: ['Marketing', 'Verknüpft Ihre Besuche auf unseren Websites und mit der Werbung, über die Sie kamen.'],
    replay: ['Sitzungsaufzeichnung', 'Zeichnet Ihren Besuch auf, damit wir ihn ansehen und Fehler beheben können. Ihre Eingaben werden verborgen.'],
  },
}
export default de
