import type { IconName } from './icons';
import type { DisplayState } from './run-fold';
import type { RunStatus } from './wire';

/**
 * The words, icon and style of every state: a state is never told by colour alone (the icon, the
 * word and the outline's dash pattern say it too).
 */
export interface Look {
  readonly label: string;
  readonly icon: IconName;
  /** The CSS class that colours it and dashes its outline. */
  readonly tone: 'ok' | 'bad' | 'busy' | 'human' | 'idle' | 'muted' | 'undo';
}

export const NODE_LOOKS: Record<DisplayState, Look> = {
  pending: { label: 'waiting for predecessors', icon: 'dot', tone: 'idle' },
  'not-reached': { label: 'not reached', icon: 'dot', tone: 'muted' },
  running: { label: 'running', icon: 'play', tone: 'busy' },
  retrying: { label: 'retrying', icon: 'retry', tone: 'busy' },
  'waiting-approval': { label: 'waiting for approval', icon: 'person', tone: 'human' },
  'waiting-timer': { label: 'waiting for a timer', icon: 'clock', tone: 'human' },
  succeeded: { label: 'succeeded', icon: 'check', tone: 'ok' },
  failed: { label: 'failed', icon: 'cross', tone: 'bad' },
  skipped: { label: 'skipped', icon: 'skip', tone: 'muted' },
  compensating: { label: 'compensating', icon: 'undo', tone: 'undo' },
  compensated: { label: 'compensated', icon: 'undo', tone: 'undo' },
  'compensation-failed': { label: 'compensation failed', icon: 'cross', tone: 'bad' },
};

/** A run's status; a waiting run says what for. */
export function runLook(status: RunStatus, waitsForHuman: boolean): Look {
  switch (status) {
    case 'running':
      return { label: 'Running', icon: 'play', tone: 'busy' };
    case 'waiting':
      return waitsForHuman ? { label: 'Waiting for approval', icon: 'person', tone: 'human' } : { label: 'Waiting for a timer', icon: 'clock', tone: 'human' };
    case 'succeeded':
      return { label: 'Succeeded', icon: 'check', tone: 'ok' };
    case 'failed':
      return { label: 'Failed', icon: 'cross', tone: 'bad' };
    case 'blocked':
      return { label: 'Blocked', icon: 'shield', tone: 'bad' };
    case 'rolled_back':
      return { label: 'Rolled back', icon: 'undo', tone: 'undo' };
    case 'cancelled':
      return { label: 'Cancelled', icon: 'ban', tone: 'muted' };
  }
}

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'waiting', 'succeeded', 'failed', 'blocked', 'rolled_back', 'cancelled'];
