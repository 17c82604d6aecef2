// The dashboard: sign in, then every panel over the period and filters in the URL fragment.

import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { signOut, whoami, Whoami } from './api'
import { Header } from './header'
import { whenSignedOut } from './loading'
import { ConsentPanel } from './panels/consent'
import { EventsCard } from './panels/events'
import { FunnelPanel } from './panels/funnel'
import { PrivacyPanel } from './panels/privacy'
import { TopCard } from './panels/top-list'
import { TrafficPanel } from './panels/traffic'
import { SignIn } from './sign-in'
import { readView, View, withFilter, writeView } from './view'

function App() {
  const [who, setWho] = useState<Whoami | null | undefined>(undefined)
  const [view, setViewState] = useState<View>(() => readView(location.hash))
  useEffect(() => {
    whenSignedOut(() => setWho(null))
    whoami().then((w) => setWho(w || null), () => setWho(null))
    const onHash = () => setViewState(readView(location.hash))
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  const setView = (v: View) => {
    history.pushState(null, '', writeView(v))
    setViewState(v)
  }
  if (who === undefined) return <p class="boot">Loading…</p>
  if (who === null) return <SignIn onSignedIn={setWho} />
  const filter = (dimension: string, value: string) => setView(withFilter(view, dimension, value))
  return (
    <>
      <Header
        who={who}
        view={view}
        onView={setView}
        onSignOut={async () => {
          await signOut()
          setWho(null)
        }}
      />
      <main class="grid" id="panels">
        <TrafficPanel view={view} />
        <TopCard
          title="Pages"
          view={view}
          onFilter={filter}
          tabs={[
            { dimension: 'page', label: 'Top pages' },
            { dimension: 'entry_page', label: 'Entry', metric: 'visits' },
            { dimension: 'exit_page', label: 'Exit', metric: 'visits' },
          ]}
        />
        <TopCard
          title="Sources"
          view={view}
          onFilter={filter}
          tabs={[
            { dimension: 'source', label: 'Sources', metric: 'visits' },
            { dimension: 'referrer', label: 'Referrers', metric: 'visits' },
            { dimension: 'utm_source', label: 'UTM source', metric: 'visits' },
            { dimension: 'utm_medium', label: 'Medium', metric: 'visits' },
            { dimension: 'utm_campaign', label: 'Campaign', metric: 'visits' },
          ]}
        />
        <TopCard
          title="Devices"
          view={view}
          onFilter={filter}
          tabs={[
            { dimension: 'browser', label: 'Browsers', metric: 'visits' },
            { dimension: 'os', label: 'OS', metric: 'visits' },
            { dimension: 'device', label: 'Device type', metric: 'visits' },
          ]}
        />
        <TopCard
          title="Countries"
          view={view}
          onFilter={filter}
          tabs={[{ dimension: 'country', label: 'Countries', metric: 'visits' }]}
          note="From the operator's country database, looked up before the address is truncated; only the country is kept."
        />
        <EventsCard view={view} onFilter={filter} />
        <FunnelPanel view={view} onSteps={(steps) => setView({ ...view, steps })} />
        <ConsentPanel view={view} />
        <PrivacyPanel view={view} />
      </main>
      <footer class="page-foot">
        Figures in UTC. Every panel is also in the JSON API under /v1/stats (see docs/dashboard.md).
      </footer>
    </>
  )
}

render(<App />, document.getElementById('app')!)
