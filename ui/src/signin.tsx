// Signing up or logging in on this device: the daemon registers the name with the login server
// (or checks the password) and brings the device online. The login server's refusals (a taken
// name, a wrong password) are shown as the daemon words them; a password too short for the
// login server is caught here before it is sent.
import { useState } from 'preact/hooks';
import { ApiError, type Api } from './api.js';

/** The login server's shortest password (its schema's minLength). */
const PASSWORD_MIN_CHARS = 8;

export function SignIn({ api, onSignedIn }: { api: Api; onSignedIn: (user: string) => void }) {
  const [mode, setMode] = useState<'signup' | 'login'>('signup');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [discoverable, setDiscoverable] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    if (mode === 'signup' && [...password].length < PASSWORD_MIN_CHARS) return setError(`The password needs at least ${PASSWORD_MIN_CHARS} characters.`);
    setBusy(true);
    setError(null);
    const body = mode === 'signup' ? { username, password, discoverable } : { username, password };
    api
      .request<{ user: string }>('POST', `/account/${mode}`, body)
      .then((r) => onSignedIn(r.user), (e: unknown) => setError(e instanceof ApiError ? sentence(e.message) : String(e)))
      .finally(() => setBusy(false));
  };
  const title = mode === 'signup' ? 'Sign up' : 'Log in';
  return (
    <main class="signin">
      <h1>Parley</h1>
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h2 id="signin-title">{title}</h2>
        <label for="username">User name</label>
        <input id="username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} autoComplete="username" required maxLength={32} autoFocus />
        <label for="password">Password</label>
        <input id="password" type="password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} aria-describedby={mode === 'signup' ? 'password-hint' : undefined} required />
        {mode === 'signup' && (
          <span id="password-hint" class="hint">
            At least {PASSWORD_MIN_CHARS} characters
          </span>
        )}
        {mode === 'signup' && (
          <label class="check">
            <input type="checkbox" checked={discoverable} onChange={(e) => setDiscoverable((e.target as HTMLInputElement).checked)} /> Others can find me by searching
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? `${title}…` : title}
        </button>
      </form>
      <p>
        {mode === 'signup' ? 'Already have an account? ' : 'New here? '}
        <button class="link" onClick={() => (setMode(mode === 'signup' ? 'login' : 'signup'), setError(null))}>
          {mode === 'signup' ? 'Log in instead' : 'Sign up instead'}
        </button>
      </p>
    </main>
  );
}

/** The daemon's refusals start in lower case (they read well after a colon in the CLI); on their own they start a sentence. */
function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
