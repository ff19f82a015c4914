import { useSignal } from '@preact/signals';
import { ApiError } from './api';

/**
 * A request made from a form or a dialog: whether it is under way, and the server's refusal (or
 * the failure to reach it) as the sentence to show.
 */
export function useRequest() {
  const busy = useSignal(false);
  const error = useSignal<string | undefined>(undefined);
  const run = async (request: () => Promise<void>): Promise<void> => {
    busy.value = true;
    error.value = undefined;
    try {
      await request();
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : `The server could not be reached: ${String(e)}`;
    } finally {
      busy.value = false;
    }
  };
  return { busy, error, run };
}
