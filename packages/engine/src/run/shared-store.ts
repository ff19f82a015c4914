/**
 * What a store several processes share (Postgres, DESIGN §9) tells the server beside the RunStore
 * contract: the peers, and where the journals are for the live streams. Declared here, where both
 * the store that answers and the server that asks depend on it.
 */

/** A peer as the shared store lists it (GET /peers). */
export interface PeerInfo {
  readonly id: string;
  readonly kind: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly address: string | undefined;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  /** Top-level runs it holds (at most 100 listed) and how many in all. */
  readonly runs: readonly string[];
  readonly runCount: number;
}

/** A run of a tree the live streams watch: its journal's length (its last seq; 0 for none) and status. */
export interface JournalHead {
  readonly runId: string;
  /** The watched run whose tree it belongs to (a run asked for, or a top-level run). */
  readonly root: string;
  readonly status: string;
  /** Whether it is a top-level run. */
  readonly topLevel: boolean;
  readonly seq: number;
  readonly startedAt: number;
}

/** What the live streams ask the shared store. */
export interface HeadsQuery {
  /** Runs whose trees to read (a run and its sub-flow runs, any depth). */
  readonly roots: readonly string[];
  /** Also the trees of every unfinished top-level run and of those started after this time (engine ms): the runs list. */
  readonly startedAfter?: number;
  /** The `mark` of the last answer: when no peer has committed since, nothing more is read. */
  readonly mark?: string;
}

export interface HeadsAnswer {
  /** Every peer's last batch number: it changes with any commit of any peer. */
  readonly mark: string;
  /** Undefined when nothing was committed since `mark`. */
  readonly heads?: readonly JournalHead[];
  /** The latest start of any run, for the next `startedAfter`. */
  readonly latestStart?: number;
}
