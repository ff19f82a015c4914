import { Icon } from './icons';
import type { LinkState } from './live';

const WORDS: Record<LinkState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Live (polling)',
  ended: 'Finished: nothing more will change',
  failed: 'Not live',
};

/** Whether what the page shows follows the server live, and how. */
export function LinkBadge({ state }: { state: LinkState }) {
  return (
    <span class={`link-badge link-${state}`} data-link={state}>
      <Icon name={state === 'live' || state === 'polling' ? 'live' : state === 'ended' ? 'check' : 'clock'} />
      {WORDS[state]}
    </span>
  );
}
