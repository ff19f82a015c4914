import { signIn } from './api';
import { useRequest } from './request-state';

/**
 * Signing in: a principal's API token (one of the configuration's `principals`). It is checked
 * by the server and kept in this tab's sessionStorage only.
 */
export function SignIn() {
  const { busy, error, run } = useRequest();
  const submit = async (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    const token = input.value.trim();
    if (token === '') {
      error.value = 'Enter your API token.';
      input.focus();
      return;
    }
    await run(() => signIn(token).then(() => undefined));
    if (error.value !== undefined) input.select();
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
