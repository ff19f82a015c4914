import { useComputed, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { now } from './clock-signal';
import { clock, dateTime, duration, jsonText, list } from './format';
import { stateDetail, viaChildren } from './graph-view';
import { Icon } from './icons';
import { IterationList } from './traffic-bar';
import { iterationsIn } from './iterations';
import { displayState, type Attempt, type NodeLogLine } from './run-fold';
import type { RunTree } from './run-tree';
import { NODE_LOOKS, runLook } from './status';
import type { JsonValue } from './wire';

function JsonBlock({ title, value, open = false }: { title: string; value: JsonValue | undefined; open?: boolean }) {
  const all = useSignal(false);
  if (value === undefined) return null;
  const { text, cut } = jsonText(value, all.value ? Infinity : 20_000);
  return (
    <details class="json" open={open}>
      <summary>{title}</summary>
      <pre tabIndex={0}>{text}</pre>
      {cut > 0 ? (
        <button type="button" class="link" onClick={() => (all.value = true)}>
          Show all ({cut.toLocaleString('en')} more characters)
        </button>
      ) : null}
    </details>
  );
}

function outcomeWords(a: Attempt): string {
  switch (a.outcome) {
    case 'running':
      return a.waits.some((w) => w.to === undefined) ? 'waiting' : 'running';
    case 'retried':
      return 'failed, tried again';
    default:
      return a.outcome;
  }
}

function Attempts({ attempts, t }: { attempts: readonly Attempt[]; t: number }) {
  if (attempts.length === 0) return null;
  return (
    <table class="attempts">
      <caption>Attempts</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr key={`${a.item ?? ''}/${a.attempt}/${a.startedAt}`}>
            <td>{a.item === undefined ? a.attempt : `item ${a.item}, ${a.attempt}`}</td>
            <td>
              <time dateTime={new Date(a.startedAt).toISOString()}>{clock(a.startedAt)}</time>
            </td>
            <td>{duration((a.endedAt ?? t) - a.startedAt)}</td>
            <td>
              {outcomeWords(a)}
              {a.error ? (
                <div class="error-line">
                  {a.error.code}: {a.error.message}
                </div>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The lines shown before "Show all": a long log stays cheap to draw. */
const LOG_LINES_SHOWN = 500;

/**
 * What the node's attempts logged (DESIGN §12), as the journal brings it: live while it runs.
 * Each line says its attempt (and item) and where it came from.
 */
function Logs({ lines, dropped }: { lines: readonly NodeLogLine[] | undefined; dropped: number | undefined }) {
  const all = useSignal(false);
  if (lines === undefined && dropped === undefined) return null;
  const kept = lines ?? [];
  const shown = all.value ? kept : kept.slice(-LOG_LINES_SHOWN);
  const place = (l: NodeLogLine) => `#${l.attempt}${l.item === undefined ? '' : ` item ${l.item}`}${l.compensation ? ' undo' : ''}`;
  return (
    <section class="logs" aria-label="Logs" data-logs>
      <h3>Logs</h3>
      <p class="muted">
        {kept.length} line{kept.length === 1 ? '' : 's'}
        {dropped ? `; ${dropped} more dropped: the attempt or the run reached its bound` : ''}.
      </p>
      {shown.length < kept.length ? (
        <button type="button" class="link" onClick={() => (all.value = true)}>
          Show the {kept.length - shown.length} earlier lines
        </button>
      ) : null}
      <pre tabIndex={0}>
        {shown.map((l, i) => (
          <span key={i} data-log-line>
            {`${clock(l.at)} ${place(l)} ${l.source}${l.level ? ` ${l.level}` : ''}  ${l.text}\n`}
          </span>
        ))}
      </pre>
    </section>
  );
}

/**
 * One node of a run: its state and why (the server's words, from the join rules), its attempts
 * with their times and errors, what it received and returned, its decisions, and the sub-flow
 * runs it started, to open in place.
 */
export function NodePanel({
  tree,
  runId,
  nodeId,
  onClose,
  onOpenRun,
  onDecide,
}: {
  tree: RunTree;
  runId: string;
  nodeId: string;
  onClose: () => void;
  onOpenRun: (runId: string) => void;
  onDecide: (runId: string, nodeId: string) => void;
}) {
  const model = tree.model(runId);
  void model.nodeRev(nodeId).value;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [runId, nodeId]);
  const via = useComputed(() => viaChildren(tree, runId, nodeId));
  const node = model.graph.value?.nodes.find((n) => n.id === nodeId);
  const n = model.fold.nodes.get(nodeId);
  const ended = model.fold.finishedAt !== undefined;
  const state = displayState(n, ended, via.value);
  const look = NODE_LOOKS[state];
  const live = state === 'running' || state === 'retrying' || state.startsWith('waiting');
  const t = live ? now.value : Date.now();
  const why = model.view.value?.nodes.find((v) => v.id === nodeId)?.why;
  const children = tree.childrenOf(runId, nodeId);
  const iterations = node?.for_each !== undefined ? iterationsIn([...tree.runs.values()].map((m) => ({ fold: m.fold, graph: m.graph.value }))).find((i) => i.runId === runId && i.nodeId === nodeId) : undefined;
  const pending = model.view.value?.pending_approvals.find((a) => a.node === nodeId && a.run_id === runId) ?? tree.model(tree.root).view.value?.pending_approvals.find((a) => a.node === nodeId && a.run_id === runId);

  return (
    <aside class="panel" aria-labelledby="panel-title" data-panel={nodeId}>
      <div class="panel-head">
        <h2 id="panel-title" tabIndex={-1} ref={heading}>
          {nodeId}
        </h2>
        <button type="button" class="icon-button" onClick={onClose} aria-label="Close the node panel">
          <Icon name="close" />
        </button>
      </div>
      <p class="panel-type">
        {node?.type ?? 'node'}
        {node?.detail.agent ? ` · ${String(node.detail.agent)} / ${String(node.detail.task)}` : ''}
        {node?.detail.flow ? ` · ${String(node.detail.flow)}` : ''}
      </p>
      {node?.description ? <p class="description">{node.description}</p> : null}
      <p class={`status tone-${look.tone}`} data-node-state={state}>
        <Icon name={look.icon} />
        {look.label}
        {node ? <span class="muted"> {stateDetail(state, n, node, t)}</span> : null}
      </p>
      <p class="why" data-why>
        <strong>Why: </strong>
        {why ?? 'asking the server…'}
      </p>
      <dl class="times">
        {n?.startedAt !== undefined ? (
          <>
            <dt>Started</dt>
            <dd>
              <time dateTime={new Date(n.startedAt).toISOString()}>{dateTime(n.startedAt)}</time>
            </dd>
          </>
        ) : null}
        {n?.finishedAt !== undefined ? (
          <>
            <dt>Ended</dt>
            <dd>
              <time dateTime={new Date(n.finishedAt).toISOString()}>{dateTime(n.finishedAt)}</time>
            </dd>
          </>
        ) : null}
        {n?.startedAt !== undefined ? (
          <>
            <dt>{n.finishedAt === undefined ? 'Running for' : 'Took'}</dt>
            <dd>{duration((n.finishedAt ?? t) - n.startedAt)}</dd>
          </>
        ) : null}
        {n?.waitUntil !== undefined ? (
          <>
            <dt>Waits until</dt>
            <dd>{dateTime(n.waitUntil)}</dd>
          </>
        ) : null}
        {n?.retryAt !== undefined ? (
          <>
            <dt>Next attempt</dt>
            <dd>{dateTime(n.retryAt)}</dd>
          </>
        ) : null}
      </dl>
      {n?.approval ? (
        <section class="approval-box" aria-label="Approval">
          <h3>Approval</h3>
          <p>
            {n.approval.required} of {list(n.approval.approvers)} must approve{n.approval.message ? `: ${n.approval.message}` : ''}.
          </p>
          {n.decisions.length > 0 ? (
            <ul class="decisions">
              {n.decisions.map((d) => (
                <li key={`${d.principal}/${d.at}`}>
                  <strong>{d.principal}</strong> {d.decision === 'approve' ? 'approved' : 'rejected'} at {clock(d.at)} via {d.channel}
                  {d.comment ? <q>{d.comment}</q> : null}
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No decision yet.</p>
          )}
          {pending ? (
            <button type="button" class="primary" onClick={() => onDecide(runId, nodeId)}>
              Decide on {nodeId}
            </button>
          ) : null}
        </section>
      ) : null}
      {iterations ? <IterationList iterations={iterations} onOpenRun={onOpenRun} /> : null}
      {children.length > 0 && !iterations ? (
        <section aria-label="Sub-flow runs">
          <h3>Sub-flow {children.length === 1 ? 'run' : 'runs'}</h3>
          <ul class="children">
            {children.map((c) => {
              const l = runLook(c.fold.status, false);
              return (
                <li key={c.id}>
                  <span class={`status tone-${l.tone}`}>
                    <Icon name={l.icon} />
                    {l.label}
                  </span>{' '}
                  {c.fold.flow?.name ?? c.id}{' '}
                  <button type="button" class="link" onClick={() => onOpenRun(c.id)}>
                    Open {c.fold.flow?.name ?? 'the sub-flow'} here
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      ) : null}
      {n?.error ? (
        <div class="error-box">
          <h3>Error</h3>
          <p>
            <code>{n.error.code}</code> {n.error.message}
          </p>
          <JsonBlock title="Error details" value={n.error.details} />
        </div>
      ) : null}
      <Attempts attempts={n?.attempts ?? []} t={t} />
      <Logs lines={n?.logs} dropped={n?.logsDropped} />
      <JsonBlock title="Input" value={n?.input} />
      <JsonBlock title="Output" value={n?.output} />
    </aside>
  );
}
