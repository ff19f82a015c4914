import { clock, duration } from './format';
import { Icon } from './icons';
import type { Iterations, Reading, Step } from './iterations';
import { runLook } from './status';

const OPERATORS: Record<string, string> = { '<=': 'at most', '<': 'under', '>=': 'at least', '>': 'over', '=': 'exactly', '==': 'exactly', '!=': 'not' };

function readingText(r: Reading): string {
  return `${r.metric} ${JSON.stringify(r.actual)} (limit: ${OPERATORS[r.operator] ?? r.operator} ${JSON.stringify(r.limit)})`;
}

function itemText(step: Step, percent: boolean): string {
  return step.item === undefined ? `item ${step.index}` : percent ? `${String(step.item)} %` : JSON.stringify(step.item);
}

function stepLook(step: Step) {
  return step.status === 'pending' ? { label: 'Not reached', icon: 'dot' as const, tone: 'idle' as const } : runLook(step.status, false);
}

/** What the shift has come to, in one sentence. */
export function shiftSummary(it: Iterations): string {
  const steps = it.steps;
  const stopped = it.stoppedAt === undefined ? undefined : steps[it.stoppedAt];
  if (stopped !== undefined) {
    const over = stopped.readings.filter((r) => !r.passed).map(readingText);
    const rollback = it.rollback === 'succeeded' ? '; rolled back: the traffic went back' : it.rollback === 'running' ? '; rolling back' : it.rollback === 'failed' ? '; its rollback failed' : '';
    return `Stopped at ${itemText(stopped, it.percent)}${over.length > 0 ? `: ${over.join(', ')}` : stopped.error ? `: ${stopped.error}` : ''}${rollback}.`;
  }
  const done = steps.filter((s) => s.status === 'succeeded');
  const current = steps.find((s) => s.status === 'running' || s.status === 'waiting');
  if (current !== undefined) return `At ${itemText(current, it.percent)}${current.status === 'waiting' ? ', baking' : ''}: ${done.length} of ${steps.length} steps passed.`;
  if (done.length === steps.length) return `At ${itemText(steps.at(-1)!, it.percent)}: every step passed its checks.`;
  return done.length === 0 ? 'Not started.' : `${done.length} of ${steps.length} steps passed.`;
}

/**
 * The blue-green shift of a deployment as a bar of its traffic steps (10 → 25 → 50 → 75 → 100 %):
 * each step with the gate's readings against its limits, where it stopped, and the rollback.
 */
export function TrafficBar({ iterations: it, title, onOpenRun }: { iterations: Iterations; title: string; onOpenRun: (runId: string) => void }) {
  let previous = 0;
  const id = `traffic-${it.runId}-${it.nodeId}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <section class="traffic" aria-labelledby={id} data-traffic={it.nodeId}>
      <h2 id={id}>
        Traffic shift <span class="muted">— {title}</span>
      </h2>
      <p class="traffic-summary" data-summary>
        {shiftSummary(it)}
      </p>
      <ol class="bar" aria-label="Traffic steps">
        {it.steps.map((step, i) => {
          const share = typeof step.item === 'number' ? step.item : previous + 1;
          const grow = Math.max(share - previous, 4);
          previous = share;
          const look = stepLook(step);
          return (
            <li key={i} class={`segment tone-${look.tone}${it.stoppedAt === i ? ' stopped' : ''}`} style={{ flexGrow: grow }} data-step={String(step.item)} data-status={step.status}>
              <Icon name={look.icon} size={14} />
              <span>{itemText(step, it.percent)}</span>
              <span class="sr-only"> {look.label}</span>
            </li>
          );
        })}
      </ol>
      {it.rollback ? (
        <p class="rollback" data-rollback={it.rollback}>
          <Icon name="undo" /> {it.rollback === 'succeeded' ? 'Rolled back' : it.rollback === 'running' ? 'Rolling back' : 'The rollback failed'}
          {it.rollbackAt ? ` at ${clock(it.rollbackAt)}` : ''}: the traffic switch's compensation sends all traffic back.
        </p>
      ) : null}
      <StepsTable iterations={it} onOpenRun={onOpenRun} />
    </section>
  );
}

/** The steps of a shift, one row each: how it ended, how long it took, each reading against its limit. */
function StepsTable({ iterations: it, onOpenRun }: { iterations: Iterations; onOpenRun: (runId: string) => void }) {
  const metrics = [...new Set(it.steps.flatMap((s) => s.readings.map((r) => r.metric)))];
  return (
    <div class="table-wrap">
      <table class="steps">
        <caption class="sr-only">Each traffic step: its outcome and its readings against the gate's limits</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Outcome</th>
            <th scope="col">Took</th>
            {metrics.map((m) => (
              <th scope="col" key={m}>
                {m}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {it.steps.map((step) => {
            const look = stepLook(step);
            return (
              <tr key={step.index} data-iteration={step.index}>
                <th scope="row">
                  {step.runId ? (
                    <button type="button" class="link" onClick={() => onOpenRun(step.runId!)} aria-label={`Open the run of ${itemText(step, it.percent)}`}>
                      {itemText(step, it.percent)}
                    </button>
                  ) : (
                    itemText(step, it.percent)
                  )}
                </th>
                <td>
                  <span class={`status tone-${look.tone}`}>
                    <Icon name={look.icon} />
                    {look.label}
                  </span>
                </td>
                <td>{step.startedAt === undefined ? '–' : duration((step.finishedAt ?? Date.now()) - step.startedAt)}</td>
                {metrics.map((m) => {
                  const r = step.readings.find((x) => x.metric === m);
                  return (
                    <td key={m} class={r === undefined ? undefined : r.passed ? 'reading ok' : 'reading bad'}>
                      {r === undefined ? (
                        '–'
                      ) : (
                        <>
                          <Icon name={r.passed ? 'check' : 'cross'} /> {JSON.stringify(r.actual)} <span class="limit">(limit: {OPERATORS[r.operator] ?? r.operator} {JSON.stringify(r.limit)})</span>
                          <span class="sr-only"> {r.passed ? 'within the limit' : 'outside the limit'}</span>
                        </>
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Each iteration of a for_each sub-flow node: its status, its readings, and a way to open its run here. */
export function IterationList({ iterations: it, onOpenRun, heading = true }: { iterations: Iterations; onOpenRun: (runId: string) => void; heading?: boolean }) {
  return (
    <section class="iterations" aria-label={heading ? undefined : 'Steps'}>
      {heading ? <h3>Iterations ({it.steps.length})</h3> : null}
      <ol>
        {it.steps.map((step) => {
          const look = stepLook(step);
          return (
            <li key={step.index} data-iteration={step.index}>
              <span class={`status tone-${look.tone}`}>
                <Icon name={look.icon} />
                {itemText(step, it.percent)}: {look.label}
              </span>
              {step.startedAt !== undefined ? <span class="muted"> · {duration((step.finishedAt ?? Date.now()) - step.startedAt)}</span> : null}
              {step.readings.length > 0 ? (
                <ul class="readings">
                  {step.readings.map((r) => (
                    <li key={r.metric} class={r.passed ? 'ok' : 'bad'}>
                      <Icon name={r.passed ? 'check' : 'cross'} /> {readingText(r)} — {r.passed ? 'within the limit' : 'outside the limit'}
                    </li>
                  ))}
                </ul>
              ) : null}
              {step.runId ? (
                <button type="button" class="link" onClick={() => onOpenRun(step.runId!)}>
                  Open the run of {itemText(step, it.percent)}
                </button>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
