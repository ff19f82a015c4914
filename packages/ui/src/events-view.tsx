import { useSignal } from '@preact/signals';
import { clock } from './format';
import type { RunModel } from './run-tree';
import type { RunEvent } from './wire';

function summary(e: RunEvent): string {
  switch (e.type) {
    case 'node.retrying':
      return `${e.error?.code ?? ''}: ${e.error?.message ?? ''}`;
    case 'node.failed':
      return `${e.error?.code ?? ''}: ${e.error?.message ?? ''}`;
    case 'node.skipped':
      return `reason: ${e.reason ?? ''}`;
    case 'approval.requested':
      return `approvers ${(e.approvers ?? []).join(', ')}; ${e.required} needed`;
    case 'approval.decided':
      return `${e.principal} ${e.decision === 'approve' ? 'approved' : 'rejected'} via ${e.channel}${e.comment ? `: "${e.comment}"` : ''}`;
    case 'timer.set':
      return `${e.purpose} until ${clock(e.fireAt ?? 0)}`;
    case 'run.finished':
      return `${e.status}${e.error ? `: ${e.error.message}` : ''}`;
    case 'node.log':
      return `${(e.lines ?? []).length} line${(e.lines ?? []).length === 1 ? '' : 's'}${e.dropped ? `, ${e.dropped} dropped` : ''}`;
    case 'run.retried':
      return `by ${e.by ?? 'someone'}${e.from ? ` from ${e.from}` : ''}: ${(e.nodes ?? []).join(', ')} run again`;
    case 'notification.sent':
      return e.message ?? '';
    case 'node.succeeded':
      return e.labels?.length ? `took ${e.labels.join(', ')}` : '';
    default:
      return '';
  }
}

/** The run's journal: every event, filterable by node and type (an audit of who did what when). */
export function EventsView({ model }: { model: RunModel }) {
  void model.rev.value;
  const type = useSignal('');
  const node = useSignal('');
  const events = model.fold.events;
  const types = [...new Set(events.map((e) => e.type))].sort();
  const nodes = [...new Set(events.flatMap((e) => (e.nodeId ? [e.nodeId] : [])))].sort();
  const shown = events.map((e, i) => ({ e, seq: i + 1 })).filter(({ e }) => (!type.value || e.type === type.value) && (!node.value || e.nodeId === node.value));
  return (
    <div class="events">
      <form class="filters" aria-label="Event filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select value={type.value} onChange={(e) => (type.value = (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Every type</option>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Node
          <select value={node.value} onChange={(e) => (node.value = (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Every node</option>
            {nodes.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
      </form>
      <div class="table-wrap">
        <table class="events-table">
          <caption>
            {shown.length} of {events.length} events of run {model.id}
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Node</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(({ e, seq }) => (
              <tr key={seq}>
                <td>{seq}</td>
                <td>
                  <time dateTime={new Date(e.at).toISOString()}>{clock(e.at)}</time>
                </td>
                <td>{e.type}</td>
                <td>{e.nodeId ? `${e.nodeId}${e.item === undefined ? '' : `[${e.item}]`}` : ''}</td>
                <td>{summary(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
