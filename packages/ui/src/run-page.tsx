import { useSignal, useSignalEffect } from '@preact/signals';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { ApiError, postJson, runPath } from './api';
import { CancelDialog } from './cancel-dialog';
import { announce, now } from './clock-signal';
import { DecideDialog } from './decide-dialog';
import { dateTime, duration, list } from './format';
import { GraphView } from './graph-view';
import { Icon } from './icons';
import { iterationsIn } from './iterations';
import { LinkBadge } from './link-badge';
import { NodePanel } from './node-panel';
import { NodeTable } from './node-table';
import { href, onLinkClick, place, setQuery } from './router';
import { itemOfPath, nodeOfPath } from './run-fold';
import { RunTree } from './run-tree';
import { StartedBy, whoMayDecide } from './runs-page';
import { runLook } from './status';
import { TimelineView } from './timeline-view';
import { TrafficBar } from './traffic-bar';
import { EventsView } from './events-view';
import type { PendingApproval } from './wire';

const TABS = [
  ['graph', 'Graph'],
  ['table', 'Table'],
  ['timeline', 'Timeline'],
  ['events', 'Events'],
] as const;

function Header({ tree, onCancel }: { tree: RunTree; onCancel: () => void }) {
  const root = tree.model(tree.root);
  void root.rev.value;
  const view = root.view.value;
  const fold = root.fold;
  void tree.version.value;
  const status = fold.seq > 0 ? fold.status : (view?.status ?? 'running');
  // From the journals when they are in (an approval waiting anywhere in the tree), else the server's view.
  const human = fold.seq > 0 ? [...tree.runs.values()].some((m) => [...m.fold.nodes.values()].some((n) => n.status === 'waiting' && n.waitKind === 'approval')) : (view?.pending_approvals.length ?? 0) > 0;
  const look = runLook(status, human);
  const started = fold.startedAt ?? (view ? Date.parse(view.started_at) : undefined);
  const t = fold.finishedAt ?? now.value;
  const retry = useSignal<string | undefined>(undefined);
  return (
    <div class="run-head">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href('/')} onClick={onLinkClick}>
          Runs
        </a>{' '}
        › <span aria-current="page">{tree.root}</span>
      </nav>
      <div class="page-head">
        <h1>{fold.flow?.name ?? view?.flow ?? 'Run'}</h1>
        <LinkBadge state={tree.link.value} />
      </div>
      <p class="run-meta">
        <span class={`status big tone-${look.tone}`} data-run-status={status}>
          <Icon name={look.icon} />
          {look.label}
        </span>
        <span class="mono">{tree.root}</span>
        {view ? (
          <span>
            started by <StartedBy row={view} />
          </span>
        ) : null}
        {started !== undefined ? (
          <span>
            at <time dateTime={new Date(started).toISOString()}>{dateTime(started)}</time>, {fold.finishedAt ? 'took' : 'running for'} {duration(t - started)}
          </span>
        ) : null}
      </p>
      <div class="actions">
        {view?.actions.includes('cancel') ? (
          <button type="button" class="danger" onClick={onCancel}>
            <Icon name="ban" /> Cancel the run
          </button>
        ) : null}
        {view?.actions.includes('retry') ? (
          <button
            type="button"
            onClick={async () => {
              try {
                await postJson(`${runPath(tree.root)}/retry`, {});
                retry.value = 'Retried: the failed steps run again.';
                tree.start();
              } catch (e) {
                retry.value = e instanceof ApiError ? e.message : String(e);
              }
            }}
          >
            <Icon name="retry" /> Retry the run
          </button>
        ) : null}
        {retry.value ? <span role="status">{retry.value}</span> : null}
      </div>
    </div>
  );
}

function Banners({ tree, onDecide }: { tree: RunTree; onDecide: (a: PendingApproval) => void }) {
  const view = tree.model(tree.root).view.value;
  const pending = view?.pending_approvals ?? [];
  if (pending.length === 0) return null;
  return (
    <>
      {pending.map((a) => (
        <section class="banner" key={`${a.run_id}/${a.node}`} aria-label={`Approval needed: ${a.node}`} data-approval={a.node}>
          <Icon name="person" size={20} />
          <div>
            <strong>Approval needed: {a.node}</strong>
            {a.run_id !== tree.root ? <span class="muted"> (in {a.run_id})</span> : null}
            <div>
              {a.decisions.filter((d) => d.decision === 'approve').length} of {a.required} approvals; may decide: {whoMayDecide(a)}
              {a.deadline ? `; until ${dateTime(Date.parse(a.deadline))}` : ''}.
            </div>
            {a.why_not ? <div class="muted">The server says {a.why_not}.</div> : null}
          </div>
          <button type="button" class="primary" onClick={() => onDecide(a)}>
            Review and decide on {a.node}
          </button>
        </section>
      ))}
    </>
  );
}

function Failure({ tree, onShow }: { tree: RunTree; onShow: (node: string) => void }) {
  const root = tree.model(tree.root);
  void root.rev.value;
  const f = root.fold;
  if (f.finishedAt === undefined || f.status === 'succeeded' || f.status === 'cancelled') return null;
  const failed = f.error?.nodeId ?? [...f.nodes.values()].find((n) => n.status === 'failed')?.id;
  return (
    <section class="failure" aria-label="What went wrong">
      <Icon name="warn" size={20} />
      <div>
        <strong>{runLook(f.status, false).label}</strong>
        {failed ? ` at ${failed}` : ''}: {f.error ? `${f.error.code}: ${f.error.message}` : 'a gate blocked the deployment.'}
      </div>
      {failed ? (
        <button type="button" onClick={() => onShow(failed)}>
          Show {failed}
        </button>
      ) : null}
    </section>
  );
}

function Traffic({ tree, onOpenRun }: { tree: RunTree; onOpenRun: (runId: string) => void }) {
  void tree.version.value;
  const models = [...tree.runs.values()];
  const shifts = iterationsIn(models.map((m) => ({ fold: m.fold, graph: m.graph.value }))).filter((i) => i.percent);
  return (
    <>
      {shifts.map((s) => (
        <TrafficBar key={`${s.runId}/${s.nodeId}`} iterations={s} title={`${s.nodeId} in ${tree.model(s.runId).fold.flow?.name ?? s.runId}`} onOpenRun={onOpenRun} />
      ))}
    </>
  );
}

/** Where the drawn run sits in the tree: the root, then each sub-flow run down to it. */
function Trail({ tree, focus, onOpenRun }: { tree: RunTree; focus: string; onOpenRun: (runId: string) => void }) {
  void tree.version.value;
  const chain: string[] = [];
  for (let id: string | undefined = focus; id !== undefined && chain.length < 16; id = tree.runs.get(id)?.fold.parent?.runId) {
    chain.unshift(id);
    if (id === tree.root) break;
  }
  if (chain.length <= 1) return null;
  return (
    <nav class="trail" aria-label="Sub-flow runs shown">
      Showing{' '}
      {chain.map((id, i) => {
        const fold = tree.runs.get(id)?.fold;
        const name = fold?.flow?.name ?? id;
        const path = fold?.parent?.path;
        const label = path ? `${nodeOfPath(path)}${itemOfPath(path) === undefined ? '' : `[${itemOfPath(path)}]`}: ${name}` : name;
        return (
          <span key={id}>
            {i > 0 ? ' › ' : ''}
            {i === chain.length - 1 ? (
              <strong aria-current="location">{label}</strong>
            ) : (
              <button type="button" class="link" onClick={() => onOpenRun(id)}>
                {label}
              </button>
            )}
          </span>
        );
      })}
    </nav>
  );
}

/** A run: its state, what it waits for, its traffic shift, and its flow as a graph, a table, a timeline and its events. */
export function RunPage({ runId }: { runId: string }) {
  const tree = useMemo(() => new RunTree(runId), [runId]);
  const deciding = useSignal<PendingApproval | undefined>(undefined);
  const cancelling = useSignal(false);
  const flash = useSignal<string | undefined>(undefined);
  const { query } = place.value;
  const focus = query.get('run') ?? runId;
  const selected = query.get('node') ?? undefined;
  const tab = TABS.some(([t]) => t === query.get('tab')) ? query.get('tab')! : 'graph';

  useEffect(() => {
    tree.start();
    void tree.loadView(runId);
    void tree.loadGraph(runId);
    return () => tree.stop();
  }, [tree]);

  useEffect(() => {
    tree.watched.add(focus);
    void tree.loadView(focus);
    void tree.loadGraph(focus);
  }, [tree, focus]);

  // A run whose node goes through items (the traffic steps) needs its flow to know them all.
  useSignalEffect(() => {
    void tree.version.value;
    for (const m of tree.runs.values()) {
      const parent = m.fold.parent;
      if (parent !== undefined && itemOfPath(parent.path) !== undefined && tree.runs.has(parent.runId)) void tree.loadGraph(parent.runId);
    }
  });

  // Run-level changes are announced to screen readers (not every node's).
  const said = useRef('');
  useSignalEffect(() => {
    void tree.model(runId).rev.value;
    const status = tree.model(runId).fold.status;
    const waits = tree.model(runId).view.value?.pending_approvals.map((a) => a.node) ?? [];
    const text = waits.length > 0 ? `Run ${runId} waits for a decision on ${list(waits)}.` : status === 'running' ? '' : `Run ${runId}: ${runLook(status, false).label}.`;
    if (text !== said.current && text !== '') announce(text);
    said.current = text;
  });

  const model = tree.model(focus);
  const select = (node: string | undefined) => setQuery({ node });
  const openRun = (id: string) => setQuery({ run: id === runId ? undefined : id, node: undefined }, true);
  const decideOn = (run: string, node: string) => {
    const all = [...(tree.model(runId).view.value?.pending_approvals ?? []), ...(tree.model(run).view.value?.pending_approvals ?? [])];
    const a = all.find((p) => p.run_id === run && p.node === node);
    if (a) deciding.value = a;
  };
  const failure = tree.failure.value;

  return (
    <section class="run-page" aria-label={`Run ${runId}`}>
      <Header tree={tree} onCancel={() => (cancelling.value = true)} />
      {failure ? (
        <p class="error" role="alert">
          {failure}
        </p>
      ) : null}
      {flash.value ? (
        <p class="flash" role="status">
          {flash.value}
        </p>
      ) : null}
      <Banners tree={tree} onDecide={(a) => (deciding.value = a)} />
      <Failure tree={tree} onShow={(node) => setQuery({ run: undefined, node })} />
      <Traffic tree={tree} onOpenRun={openRun} />
      <Trail tree={tree} focus={focus} onOpenRun={openRun} />
      <div
        class="tabs"
        role="tablist"
        aria-label="Views of the run"
        onKeyDown={(e) => {
          // Arrows move between the tabs (the inactive ones are out of the Tab order).
          const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
          if (step === 0) return;
          e.preventDefault();
          const next = TABS[(TABS.findIndex(([t]) => t === tab) + step + TABS.length) % TABS.length]![0];
          setQuery({ tab: next === 'graph' ? undefined : next });
          requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus());
        }}
      >
        {TABS.map(([id, label]) => (
          <button key={id} type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id ? 'true' : 'false'} aria-controls={`panel-${id}`} tabIndex={tab === id ? 0 : -1} onClick={() => setQuery({ tab: id === 'graph' ? undefined : id })}>
            {label}
          </button>
        ))}
      </div>
      <div class={`run-body${selected && tab !== 'events' ? ' with-panel' : ''}`} role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <div class="run-main">
          {tab === 'graph' ? <GraphView tree={tree} model={model} selected={selected} onSelect={select} /> : null}
          {tab === 'table' ? <NodeTable tree={tree} model={model} selected={selected} onSelect={select} /> : null}
          {tab === 'timeline' ? <TimelineView model={model} onSelect={select} /> : null}
          {tab === 'events' ? <EventsView model={model} /> : null}
        </div>
        {selected && tab !== 'events' ? <NodePanel tree={tree} runId={focus} nodeId={selected} onClose={() => select(undefined)} onOpenRun={openRun} onDecide={decideOn} /> : null}
      </div>
      {deciding.value ? (
        <DecideDialog
          tree={tree}
          approval={deciding.value}
          onClose={(result) => {
            deciding.value = undefined;
            if (result) flash.value = result;
          }}
        />
      ) : null}
      {cancelling.value ? (
        <CancelDialog
          runId={runId}
          onClose={(result) => {
            cancelling.value = false;
            if (result) flash.value = result;
          }}
        />
      ) : null}
    </section>
  );
}
