import type { JournalHead } from '@gantry/engine';
import { FINAL } from './run-details.js';

/**
 * What the live streams of a peer read of the runs other peers carry on (DESIGN §9, §10): where
 * the watched journals are, polled while a stream is open (live-feed.ts). The frames themselves
 * are read from the store as for local runs, after each reader's cursor: a poll only says which
 * journals grew.
 */

/** The runs list's view of the shared store: each top-level run's status and tree length as last polled. */
export interface ListWatch {
  readonly versions: Map<string, { version: string; final: boolean; startedAt: number }>;
  /** Top-level runs started after this are read whatever their status (a run may start and end between two polls). */
  since: number;
  /** The first poll only takes note: what the store held before it, a reader reads with the list. */
  baselined: boolean;
  ready: Promise<void>;
}

/**
 * How far before the latest start a poll still looks for new top-level runs: a run is read by its
 * start time, from the clock of the peer that started it, and may be committed a little after a
 * run that started later.
 */
const START_SLACK_MS = 10_000;

/** A list watch before its first poll: that poll reads the unfinished runs alone. */
export function newListWatch(): ListWatch {
  return { versions: new Map(), since: Number.MAX_VALUE, baselined: false, ready: Promise.resolve() };
}

/** The heads of each watched tree. */
export function byTree(heads: readonly JournalHead[]): Map<string, JournalHead[]> {
  const trees = new Map<string, JournalHead[]>();
  for (const head of heads) {
    const tree = trees.get(head.root);
    if (tree === undefined) trees.set(head.root, [head]);
    else tree.push(head);
  }
  return trees;
}

/** The top-level runs whose status or tree grew since the last poll, and new ones; none at the first poll, which takes note. */
export function changedLines(list: ListWatch, trees: ReadonlyMap<string, readonly JournalHead[]>, latestStart: number | undefined): string[] {
  const changed: string[] = [];
  for (const [root, heads] of trees) {
    const top = heads.find((h) => h.runId === root);
    if (top === undefined || !top.topLevel) continue;
    const known = list.versions.get(root);
    const final = FINAL.has(top.status);
    // A finished run watched on its own page, neither new nor followed: not a change of the list.
    if (known === undefined && final && top.startedAt <= list.since && list.baselined) continue;
    let length = 0;
    for (const h of heads) length += h.seq;
    const version = `${top.status} ${length}`;
    if (known?.version === version) continue;
    list.versions.set(root, { version, final, startedAt: top.startedAt });
    if (list.baselined) changed.push(root);
  }
  list.baselined = true;
  if (latestStart !== undefined) list.since = latestStart - START_SLACK_MS;
  for (const [root, v] of list.versions) if (v.final && v.startedAt <= list.since) list.versions.delete(root);
  return changed;
}
