import type { BannerTexts } from '../texts'

/** Español (paquete adicional). */
const es: BannerTexts = {
  title: 'Tu privacidad, tu elección',
  body: 'Con tu consentimiento medimos cómo se usa este sitio, recordamos tus ajustes, mostramos anuncios relevantes y grabamos visitas para corregir problemas (nunca lo que escribes). No se guarda nada en tu dispositivo hasta que elijas, y puedes cambiar de opinión en cualquier momento en «Opciones de privacidad».',
  accept: 'Aceptar todo',
  reject: 'Rechazar todo',
  choose: 'Elegir…',
  settings: 'Elige qué permites',
  save: 'Guardar selección',
  close: 'Cerrar',
  policy: 'Política de privacidad',
  alwaysOn: 'Siempre activo',
  gpc: 'Se aplicó la señal Global Privacy Control de tu navegador: el marketing sigue desactivado.',
  optedOut: 'Te has opuesto: no se recoge nada. Permite algo abajo para cambiarlo.',
  reopen: 'Opciones de privacidad',
  categories: {
    necessary: ['Necesarias', 'Guarda las elecciones que hagas aquí.'],
    analytics: ['Analítica', 'Cuenta visitas y clics con un identificador aleatorio, para ver qué funciona.'],
    functional: ['Funcionales', 'Recuerda tus ajustes entre visitas.'],
    marketing: ['Marketing', 'Vincula tus visitas en nuestros sitios y con los anuncios que te trajeron.'],
    replay: ['Grabación de sesión', 'Graba tu visita para que podamos revisarla y corregir problemas. Lo que escribes queda oculto.'],
  },
}
export default es
