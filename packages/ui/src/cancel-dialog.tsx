import { postJson, runPath } from './api';
import { announce } from './clock-signal';
import { Dialog } from './dialog';
import { useRequest } from './request-state';

/** Cancelling a run, once confirmed: every running step is aborted, nothing further starts. */
export function CancelDialog({ runId, onClose }: { runId: string; onClose: (result?: string) => void }) {
  const { busy, error, run } = useRequest();
  const cancel = () =>
    run(async () => {
      const answer = await postJson<{ status: string; cancelled_by: string }>(`${runPath(runId)}/cancel`, {});
      const result = answer.status === 'cancelled' ? `Run ${runId} was cancelled by ${answer.cancelled_by}.` : `Run ${runId} is stopping (${answer.status}).`;
      announce(result);
      onClose(result);
    });
  return (
    <Dialog id="cancel" title="Cancel this run?" onClose={() => onClose()}>
      <p>
        Every step that runs is stopped, nothing further starts, and the run ends <strong>cancelled</strong>.
      </p>
      {error.value ? (
        <p class="error" role="alert">
          {error.value}
        </p>
      ) : null}
      <div class="buttons">
        <button type="button" class="danger" disabled={busy.value} onClick={() => void cancel()}>
          Cancel the run
        </button>
        <button type="button" onClick={() => onClose()}>
          Keep it running
        </button>
      </div>
    </Dialog>
  );
}
