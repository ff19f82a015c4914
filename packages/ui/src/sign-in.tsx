import { useSignal } from '@preact/signals';
import { ApiError, signIn } from './api';

/**
 * Signing in: a principal's API token (one of the configuration's `principals`). It is checked
 * by the server and kept in this tab's sessionStorage only.
 */
export function SignIn() {
  const error = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    const token = input.value.trim();
    if (token === '') {
      error.value = 'Enter your API token.';
      input.focus();
      return;
    }
    busy.value = true;
    error.value = undefined;
    try {
      await signIn(token);
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : `The server could not be reached: ${String(e)}`;
      input.select();
    } finally {
      busy.value = false;
    }
  };
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to Gantry</h1>
      <p>
        Sign in with your API token: the token of a principal in the server's configuration. It is kept in this browser tab only, and sent to this
        server alone.
      </p>
      <form onSubmit={submit} noValidate>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} aria-describedby={error.value ? 'sign-in-error' : undefined} />
        <button type="submit" class="primary" disabled={busy.value}>
          {busy.value ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error.value ? (
        <p id="sign-in-error" class="error" role="alert">
          {error.value}
        </p>
      ) : null}
    </section>
  );
}
