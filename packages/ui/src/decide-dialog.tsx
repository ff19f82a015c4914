import { Fragment } from 'preact';
import { postJson, runPath, session } from './api';
import { announce } from './clock-signal';
import { dateTime, list } from './format';
import { Dialog } from './dialog';
import { Icon } from './icons';
import { useRequest } from './request-state';
import { whoMayDecide } from './runs-page';
import type { RunTree } from './run-tree';
import type { JsonValue, PendingApproval } from './wire';

/** The trigger's plain fields (the version, the branch…): what will ship, for the approver to see. */
function triggerFacts(trigger: JsonValue | undefined): [string, string][] {
  if (typeof trigger !== 'object' || trigger === null || Array.isArray(trigger)) return [];
  return Object.entries(trigger)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .slice(0, 8)
    .map(([k, v]) => [k, String(v)]);
}

/**
 * Approve or reject an approval, with a comment. The server decides, as its API does: a refusal
 * (403 not an approver or the run's initiator approving, 409 already decided or no longer
 * waiting, 410 expired) is shown as the server's sentence; the page never decides on its own.
 */
export function DecideDialog({ tree, approval, onClose }: { tree: RunTree; approval: PendingApproval; onClose: (result?: string) => void }) {
  const { busy, error, run: request } = useRequest();
  const root = tree.model(tree.root);
  const run = tree.model(approval.run_id);
  const facts = triggerFacts(root.fold.trigger);
  const decide = (decision: 'approve' | 'reject', form: HTMLFormElement) =>
    request(async () => {
      const comment = (form.elements.namedItem('comment') as HTMLTextAreaElement).value.trim();
      const answer = await postJson<{ approval: string; decisions: unknown[] }>(`${runPath(approval.run_id)}/nodes/${encodeURIComponent(approval.node)}/decision`, {
        decision,
        ...(comment ? { comment } : {}),
      });
      const result = `You ${decision === 'approve' ? 'approved' : 'rejected'} ${approval.node}: ${answer.approval === 'pending' ? `${answer.decisions.length} of ${approval.required} decisions so far` : `it is ${answer.approval}`}.`;
      announce(result);
      tree.refreshViewSoon(tree.root, 0);
      if (approval.run_id !== tree.root) tree.refreshViewSoon(approval.run_id, 0);
      onClose(result);
    });
  return (
    <Dialog id="decide" title={`Decide on ${approval.node}`} onClose={() => onClose()}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
          if (submitter?.value === 'approve' || submitter?.value === 'reject') void decide(submitter.value, e.currentTarget as HTMLFormElement);
        }}
      >
        <dl class="facts">
          <dt>Run</dt>
          <dd class="mono">{approval.run_id}</dd>
          <dt>Flow</dt>
          <dd>{run.fold.flow?.name ?? root.fold.flow?.name ?? ''}</dd>
          {facts.map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </Fragment>
          ))}
          {root.fold.initiator ? (
            <>
              <dt>Started by</dt>
              <dd>{root.fold.initiator}</dd>
            </>
          ) : null}
          <dt>Needed</dt>
          <dd>
            {approval.required} of {list(approval.approvers)}; {approval.decisions.length === 0 ? 'no decision yet' : approval.decisions.map((d) => `${d.principal} ${d.decision === 'approve' ? 'approved' : 'rejected'}`).join(', ')}
          </dd>
          <dt>May decide</dt>
          <dd>{whoMayDecide(approval)}</dd>
          {approval.deadline ? (
            <>
              <dt>Until</dt>
              <dd>{dateTime(Date.parse(approval.deadline))} (then it fails, unless the flow says otherwise)</dd>
            </>
          ) : null}
        </dl>
        {approval.why_not ? (
          <p class="notice" id="decide-note">
            <Icon name="warn" /> The server says {approval.why_not}. You may still send a decision; the server will answer it.
          </p>
        ) : (
          <p class="muted" id="decide-note">
            You decide as {session.value?.principal}
            {session.value?.roles.length ? ` (${session.value.roles.join(', ')})` : ''}.
          </p>
        )}
        <label for="decide-comment">Comment, recorded with your decision (optional)</label>
        <textarea id="decide-comment" name="comment" rows={3} maxLength={10_000} />
        {error.value ? (
          <p class="error" role="alert">
            {error.value}
          </p>
        ) : null}
        <div class="buttons">
          <button type="submit" value="approve" class="primary" disabled={busy.value} aria-describedby="decide-note">
            <Icon name="check" /> Approve {approval.node}
          </button>
          <button type="submit" value="reject" class="danger" disabled={busy.value} aria-describedby="decide-note">
            <Icon name="cross" /> Reject {approval.node}
          </button>
          <button type="button" onClick={() => onClose()}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}
