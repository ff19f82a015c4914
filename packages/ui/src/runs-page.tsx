import { useComputed, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, authHeaders, getJson, url } from './api';
import { announce, now } from './clock-signal';
import { dateTime, duration, list, relative } from './format';
import { Icon } from './icons';
import { follow, type LinkState } from './live';
import { LinkBadge } from './link-badge';
import { href, onLinkClick, place, runHref, setQuery } from './router';
import { RUN_STATUSES, runLook } from './status';
import type { RunRow, WaitingApproval } from './wire';

/** Who may decide an approval, in words: "tech-lead (alice, carol) and product-manager (bob)". */
export function whoMayDecide(a: Pick<WaitingApproval, 'approvers' | 'deciders'>): string {
  return list(a.approvers.map((role) => {
    const people = a.deciders[role] ?? [];
    return people.length === 0 || (people.length === 1 && people[0] === role) ? role : `${role} (${people.join(', ')})`;
  }));
}

export function StartedBy({ row }: { row: Pick<RunRow, 'started_by'> }) {
  const by = row.started_by;
  const via = by.via === 'webhook' ? 'webhook' : by.via === 'sub-flow' ? 'a parent run' : by.via === 'schedule' ? 'schedule' : 'CLI or API';
  return by.initiator ? (
    <span>
      {by.initiator} <span class="muted">via {via}</span>
    </span>
  ) : (
    <span>{via}</span>
  );
}

function StatusCell({ row }: { row: RunRow }) {
  const look = runLook(row.status, (row.waiting_for?.length ?? 0) > 0);
  return (
    <span class={`status tone-${look.tone}`}>
      <Icon name={look.icon} />
      {look.label}
    </span>
  );
}

/** The runs, newest first: filters by status and flow, live, and the runs that wait for a person first. */
export function RunsPage() {
  const rows = useSignal<RunRow[]>([]);
  const flows = useSignal<string[]>([]);
  const loaded = useSignal(false);
  const failure = useSignal<string | undefined>(undefined);
  const link = useSignal<LinkState>('connecting');
  const { query } = place.value;
  const status = query.get('status') ?? '';
  const flow = query.get('flow') ?? '';
  const human = query.get('needs') === 'decision';

  useEffect(() => {
    let cancelled = false;
    const load = async () => {
      const q = new URLSearchParams({ details: 'true', top_level: 'true', limit: '100' });
      if (status) q.set('status', status);
      if (flow) q.set('flow', flow);
      try {
        const page = await getJson<{ runs: RunRow[]; flows: string[] }>(`/runs?${q}`);
        if (cancelled) return;
        rows.value = page.runs;
        flows.value = page.flows;
        failure.value = undefined;
      } catch (error) {
        if (!cancelled) failure.value = error instanceof ApiError ? error.message : String(error);
      } finally {
        loaded.value = true;
      }
    };
    let lastId: string | undefined;
    const matches = (r: RunRow) => r.parent_run_id === undefined && (!status || r.status === status) && (!flow || r.flow === flow);
    // At once, and again once the stream is open (nothing between is missed): a stream that
    // cannot open at all must not leave the page empty.
    void load();
    const follower = follow({
      url: url('/events'),
      headers: () => authHeaders(),
      position: () => lastId,
      onFrame: (frame) => {
        if (frame.event === 'hello') {
          // Not resumed (a first connection too): what changed meanwhile is read afresh.
          if (!(JSON.parse(frame.data) as { resumed: boolean }).resumed) void load();
          return;
        }
        if (frame.event !== 'run') return;
        if (frame.id) lastId = frame.id;
        const row = JSON.parse(frame.data) as RunRow;
        const before = rows.value.find((r) => r.run_id === row.run_id);
        if (before?.status !== row.status && (row.waiting_for?.length ?? 0) > 0) announce(`Run ${row.run_id} of ${row.flow} waits for a decision.`);
        const rest = rows.value.filter((r) => r.run_id !== row.run_id);
        rows.value = matches(row) ? [row, ...rest].sort((a, b) => b.started_at.localeCompare(a.started_at)) : rest;
      },
      poll: async () => {
        await load();
        return false;
      },
      onState: (state) => (link.value = state),
    });
    return () => {
      cancelled = true;
      follower.stop();
    };
  }, [status, flow]);

  const shown = useComputed(() => (human ? rows.value.filter((r) => (r.waiting_for?.length ?? 0) > 0) : rows.value));
  const waiting = rows.value.filter((r) => (r.waiting_for?.length ?? 0) > 0);
  const t = now.value;

  return (
    <section aria-labelledby="runs-title">
      <div class="page-head">
        <h1 id="runs-title">Runs</h1>
        <LinkBadge state={link.value} />
      </div>
      {waiting.length > 0 ? (
        <section class="needs-decision" aria-labelledby="needs-title">
          <h2 id="needs-title">
            <Icon name="person" /> {waiting.length === 1 ? '1 run waits for a decision' : `${waiting.length} runs wait for a decision`}
          </h2>
          <ul>
            {waiting.map((r) =>
              r.waiting_for!.map((a) => (
                <li key={`${a.run_id}/${a.node}`}>
                  <a href={runHref(r.run_id, { node: a.run_id === r.run_id ? a.node : undefined, run: a.run_id === r.run_id ? undefined : a.run_id })} onClick={onLinkClick}>
                    {r.flow}: {a.node}
                  </a>{' '}
                  — {a.approved} of {a.required} approvals; may decide: {whoMayDecide(a)}
                  {a.deadline ? <span class="muted"> · until {dateTime(Date.parse(a.deadline))}</span> : null}
                </li>
              )),
            )}
          </ul>
        </section>
      ) : null}
      <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setQuery({ status: (e.currentTarget as HTMLSelectElement).value || undefined }, true)}>
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {runLook(s, s === 'waiting').label.replace('Waiting for approval', 'Waiting')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Flow
          <select value={flow} onChange={(e) => setQuery({ flow: (e.currentTarget as HTMLSelectElement).value || undefined }, true)}>
            <option value="">Any flow</option>
            {[...new Set([...flows.value, ...(flow ? [flow] : [])])].map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={human} onChange={(e) => setQuery({ needs: (e.currentTarget as HTMLInputElement).checked ? 'decision' : undefined }, true)} />
          Waiting for a decision only
        </label>
        {status || flow || human ? (
          <a href={href('/')} onClick={onLinkClick}>
            Clear the filters
          </a>
        ) : null}
      </form>
      {failure.value ? (
        <p class="error" role="alert">
          {failure.value}
        </p>
      ) : null}
      {!loaded.value ? (
        <p class="loading">Loading the runs…</p>
      ) : shown.value.length === 0 ? (
        <p class="empty">{status || flow || human ? 'No run matches these filters.' : 'No runs yet. A webhook delivery, a schedule or gantry run starts one.'}</p>
      ) : (
        <table class="runs">
          <caption class="sr-only">Runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Flow</th>
              <th scope="col">Started by</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.value.map((r) => {
              const started = Date.parse(r.started_at);
              const waits = r.waiting_for ?? [];
              return (
                <tr key={r.run_id} class={waits.length > 0 ? 'needs-human' : undefined} data-run={r.run_id} data-status={r.status}>
                  <td data-label="Status">
                    <StatusCell row={r} />
                    {waits.map((a) => (
                      <div class="waits" key={`${a.run_id}/${a.node}`}>
                        {a.node}: {a.approved} of {a.required}; may decide: {whoMayDecide(a)}
                      </div>
                    ))}
                  </td>
                  <td data-label="Run">
                    <a href={runHref(r.run_id)} onClick={onLinkClick} class="mono">
                      {r.run_id}
                    </a>
                  </td>
                  <td data-label="Flow">{r.flow}</td>
                  <td data-label="Started by">
                    <StartedBy row={r} />
                  </td>
                  <td data-label="Started">
                    <time dateTime={r.started_at} title={dateTime(started)}>
                      {relative(started, t)}
                    </time>
                  </td>
                  <td data-label="Duration">{duration((r.finished_at ? Date.parse(r.finished_at) : t) - started)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
