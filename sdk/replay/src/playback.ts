/**
 * The collector's playback page (`/replay/`): asks for an admin token (kept in this tab's
 * sessionStorage only), lists the project's replays and plays one with rrweb-player.
 */
import Player from 'rrweb-player'
// esbuild writes the player's stylesheet next to the bundle (assent-replay-player.css).
import 'rrweb-player/dist/style.css'

const TOKEN_KEY = 'assent_admin_token'

interface SessionSummary {
  sessionId: number
  anonymousId?: string
  userId?: string
  chunks: number
  bytes: number
  firstTimestamp: number
  lastTimestamp: number
}

function element<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T
}

async function admin<T>(path: string): Promise<T | undefined> {
  const token = sessionStorage.getItem(TOKEN_KEY)
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' })
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY)
    showLogin('That token is not an admin token of a project on this collector.')
    return undefined
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

function showLogin(error?: string): void {
  element('app').hidden = true
  element('logout').hidden = true
  const form = element<HTMLFormElement>('login')
  form.hidden = false
  form.querySelector('.error')?.remove()
  if (error) {
    const p = document.createElement('p')
    p.className = 'error'
    p.textContent = error
    form.append(p)
  }
}

async function showList(): Promise<void> {
  element('login').hidden = true
  element('app').hidden = false
  element('logout').hidden = false
  const status = element('status')
  const answer = await admin<{ replays: SessionSummary[] }>('/v1/admin/replays')
  if (!answer) return
  const list = element('sessions')
  list.replaceChildren()
  status.textContent = answer.replays.length ? `${answer.replays.length} session(s)` : 'No replay recorded yet.'
  for (const s of answer.replays) {
    const li = document.createElement('li')
    const button = document.createElement('button')
    const seconds = Math.round((s.lastTimestamp - s.firstTimestamp) / 1000)
    // textContent only: ids come from browsers and are never interpreted as HTML.
    button.textContent = `${new Date(s.firstTimestamp).toLocaleString()} · ${seconds} s · ${s.userId || s.anonymousId || 'unknown'}`
    button.dataset.session = String(s.sessionId)
    button.addEventListener('click', () => play(s.sessionId))
    li.append(button)
    list.append(li)
  }
  const wanted = /session=(\d+)/.exec(location.hash)
  if (wanted) await play(Number(wanted[1]))
}

let player: Player | undefined

async function play(sessionId: number): Promise<void> {
  const answer = await admin<{ events: Array<{ timestamp: number; type: number }> }>(`/v1/admin/replays/${sessionId}`)
  if (!answer) return
  history.replaceState(null, '', `#session=${sessionId}`)
  const target = element('player')
  player?.getReplayer().destroy()
  target.replaceChildren()
  player = new Player({ target, props: { events: answer.events as never, width: 900, height: 560, autoPlay: true, skipInactive: true } })
  target.dataset.session = String(sessionId)
}

element<HTMLFormElement>('login').addEventListener('submit', (e) => {
  e.preventDefault()
  sessionStorage.setItem(TOKEN_KEY, element<HTMLInputElement>('token').value.trim())
  element<HTMLInputElement>('token').value = ''
  showList().catch((err) => (element('status').textContent = String(err)))
})
element('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY)
  player?.getReplayer().destroy()
  player = undefined
  showLogin()
})

if (sessionStorage.getItem(TOKEN_KEY)) showList().catch((err) => (element('status').textContent = String(err)))
else showLogin()
