import type { BannerTexts } from '../texts'

/** Italiano (pacchetto aggiuntivo). */
const it: BannerTexts = {
  title: 'La tua privacy, la tua scelta',
  body: 'Con il tuo consenso misuriamo come viene usato questo sito, ricordiamo le tue impostazioni, mostriamo annunci pertinenti e registriamo le visite per correggere i problemi (mai ciò che digiti). Nulla viene salvato sul tuo dispositivo finché non scegli, e puoi cambiare idea in qualsiasi momento da «Scelte sulla privacy».',
  accept: 'Accetta tutto',
  reject: 'Rifiuta tutto',
  choose: 'Scegli…',
  settings: 'Scegli cosa consenti',
  save: 'Salva le scelte',
  close: 'Chiudi',
  policy: 'Informativa sulla privacy',
  alwaysOn: 'Sempre attivo',
  gpc: 'È stato applicato il segnale Global Privacy Control del tuo browser: il marketing resta disattivato.',
  optedOut: 'Ti sei opposto: non viene raccolto nulla. Consenti qualcosa qui sotto per cambiare idea.',
  reopen: 'Scelte sulla privacy',
  categories: {
    necessary: ['Necessari', 'Conserva le scelte che fai qui.'],
    analytics: ['Statistiche', 'Conta visite e clic con un identificatore casuale, per capire cosa funziona.'],
    functional: ['Funzionali', 'Ricorda le tue impostazioni tra una visita e l’altra.'],
    marketing: ['Marketing', 'Collega le tue visite sui nostri siti e agli annunci che ti hanno portato qui.'],
    replay: ['Registrazione della sessione', 'Registra la tua visita per rivederla e correggere i problemi. Ciò che digiti resta nascosto.'],
  },
}
export default it
