// Sign-in: the token is sent once, in the body of a same-origin POST, and exchanged for an
// HttpOnly session cookie; it is never kept by the page.

import { useState } from 'preact/hooks'
import { signIn, Whoami } from './api'

export function SignIn({ onSignedIn }: { onSignedIn: (who: Whoami) => void }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  return (
    <main class="sign-in">
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault()
          setBusy(true)
          setError('')
          try {
            onSignedIn(await signIn(token))
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err))
          } finally {
            setBusy(false)
          }
        }}
      >
        <h1>
          <img src="favicon.svg" alt="" width="28" height="28" /> Assent
        </h1>
        <p>Sign in with your project's admin token, or a viewer token (statistics only).</p>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="note">The token is exchanged for a session cookie the page cannot read; it is not stored in the browser.</p>
      </form>
    </main>
  )
}
