import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, forgetSession, session, signIn, storedToken } from './api';
import { announcement } from './clock-signal';
import { Icon } from './icons';
import { RunPage } from './run-page';
import { RunsPage } from './runs-page';
import { href, onLinkClick, place } from './router';
import { SignIn } from './sign-in';

/** The page: a header with who is signed in, and the runs list or a run under it. */
export function App() {
  const checking = useSignal(storedToken() !== undefined && session.value === undefined);
  useEffect(() => {
    const token = storedToken();
    if (token === undefined || session.value !== undefined) return;
    // A token kept from earlier in this tab: the server says whether it still holds.
    signIn(token)
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) forgetSession();
      })
      .finally(() => (checking.value = false));
  }, []);

  const who = session.value;
  const { path } = place.value;
  const runMatch = /^\/runs\/([^/]+)\/?$/.exec(path);
  let page;
  if (checking.value) page = <p class="loading">Checking your token…</p>;
  else if (who === undefined) page = <SignIn />;
  else if (runMatch) page = <RunPage key={runMatch[1]} runId={decodeURIComponent(runMatch[1]!)} />;
  else page = <RunsPage />;

  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <a class="brand" href={href('/')} onClick={onLinkClick}>
          <svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <rect width="32" height="32" rx="6" />
            <path d="M8 24V8h6v6h4V8h6v16h-6v-6h-4v6z" />
          </svg>
          Gantry
        </a>
        {who === undefined ? null : (
          <nav aria-label="Main">
            <a href={href('/')} onClick={onLinkClick} aria-current={runMatch ? undefined : 'page'}>
              Runs
            </a>
          </nav>
        )}
        {who === undefined ? null : (
          <div class="who">
            <Icon name="person" />
            <span>
              Signed in as <strong>{who.principal}</strong>
              {who.roles.length > 0 ? <span class="roles"> ({who.roles.join(', ')})</span> : null}
            </span>
            <button type="button" class="link" onClick={() => forgetSession()}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <div class="sr-only" aria-live="polite" role="status">
        {announcement.value}
      </div>
    </>
  );
}
