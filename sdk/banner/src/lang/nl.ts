import type { BannerTexts } from '../texts'

/** Nederlands (extra pakket). */
const nl: BannerTexts = {
  title: 'Jouw privacy, jouw keuze',
  body: 'Met je toestemming meten we hoe deze site wordt gebruikt, onthouden we je instellingen, tonen we relevante advertenties en nemen we bezoeken op om problemen op te lossen (nooit wat je typt). Er wordt niets op je apparaat opgeslagen tot je kiest, en je kunt je keuze altijd wijzigen via ‘Privacykeuzes’.',
  accept: 'Alles accepteren',
  reject: 'Alles weigeren',
  choose: 'Kiezen…',
  settings: 'Kies wat je toestaat',
  save: 'Keuzes opslaan',
  close: 'Sluiten',
  policy: 'Privacybeleid',
  alwaysOn: 'Altijd aan',
  gpc: 'Het Global Privacy Control-signaal van je browser is toegepast: marketing blijft uit.',
  optedOut: 'Je hebt bezwaar gemaakt: er wordt niets verzameld. Sta hieronder iets toe om dat te wijzigen.',
  reopen: 'Privacykeuzes',
  categories: {
    necessary: ['Noodzakelijk', 'Bewaart de keuzes die je hier maakt.'],
    analytics: ['Statistieken', 'Telt bezoeken en klikken onder een willekeurige ID, om te zien wat werkt.'],
    functional: ['Functioneel', 'Onthoudt je instellingen tussen bezoeken.'],
    marketing: ['Marketing', 'Koppelt je bezoeken aan onze sites en aan de advertenties waarmee je hier kwam.'],
    replay: ['Sessie-opname', 'Neemt je bezoek op zodat we het kunnen terugkijken en problemen oplossen. Wat je typt, blijft verborgen.'],
  },
}
export default nl
