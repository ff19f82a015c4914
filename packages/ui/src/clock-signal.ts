import { signal } from '@preact/signals';

/** The time, once a second: what shows elapsed times reads it, and draws again as it ticks. */
export const now = signal(Date.now());

if (typeof window !== 'undefined') setInterval(() => (now.value = Date.now()), 1000);

/** A polite announcement for screen readers: run-level changes, never every node's tick. */
export const announcement = signal('');

export function announce(text: string): void {
  // The same text twice is not read twice unless it changes in between.
  announcement.value = announcement.value === text ? `${text}\u00a0` : text;
}
