import type { BannerTexts } from '../texts'

/** Français (intégré). */
const fr: BannerTexts = {
  title: 'Vos données, votre choix',
  body: 'Avec votre accord, nous mesurons l’utilisation de ce site, mémorisons vos réglages, affichons des publicités pertinentes et enregistrons les visites pour corriger les problèmes (jamais ce que vous saisissez). Rien n’est enregistré sur votre appareil avant votre choix, et vous pouvez le modifier à tout moment via « Choix de confidentialité ».',
  accept: 'Tout accepter',
  reject: 'Tout refuser',
  choose: 'Personnaliser…',
  settings: 'Choisissez ce que vous autorisez',
  save: 'Enregistrer mes choix',
  close: 'Fermer',
  policy: 'Politique de confidentialité',
  alwaysOn: 'Toujours actif',
  gpc: 'Le signal Global Privacy Control de votre navigateur a été appliqué : le marketing reste désactivé.',
  optedOut: 'Vous vous êtes opposé à toute collecte : rien n’est collecté. Autorisez une catégorie ci-dessous pour revenir sur ce choix.',
  reopen: 'Choix de confidentialité',
  categories: {
    necessary: ['Nécessaire', 'Conserve les choix que vous faites ici.'],
    analytics: ['Mesure d’audience', 'Compte les visites et les clics sous un identifiant aléatoire, pour voir ce qui fonctionne.'],
    functional: ['Fonctionnel', 'Mémorise vos réglages d’une visite à l’autre.'],
    marketing: ['Marketing', 'Relie vos visites sur nos sites et aux publicités qui vous ont amené ici.'],
    replay: ['Enregistrement de session', 'Enregistre votre visite pour que nous puissions la revoir et corriger les problèmes. Ce que vous saisissez est masqué.'],
  },
}
export default fr
