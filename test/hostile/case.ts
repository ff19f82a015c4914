/**
 * A hostile case: data (a flow, a configuration, a payload, other files) and the bounded outcome
 * expected of it (DESIGN §11; the codes and statuses of /work A-CODES for issue 15 [A]). One place
 * per case says what is expected: its `expect`.
 */
import type { Served, Workspace } from './processes.js';
import type { AnswerLog, HealthFigures } from './probes.js';
import type { StandIn } from './services.js';

/**
 * Budgets by kind of hostile work, in ms; a case passes within twice its budget and is cut off
 * there. Generous enough for a loaded machine, short enough that a frozen process fails.
 */
export const BUDGET = Object.freeze({
  /** An HTTP refusal: until the answer's status line. */
  answer: 500,
  /** A hostile run through `gantry serve`: from the delivery to the run's final status. */
  run: 1_000,
  /** The same, moving megabytes (a big reply or answer, a large payload). */
  heavyRun: 1_500,
  /** The same, when only a step cap (or the last-resort clock) can stop the expression. */
  steps: 3_000,
  /** A CLI command, or a start of `gantry serve`, Node's own start-up included. */
  process: 5_000,
});

export type RunStatus = 'succeeded' | 'failed' | 'blocked' | 'rolled_back' | 'cancelled' | 'waiting';

export interface Expect {
  /**
   * How long the refusal (or the end of the run) may take, from the start of the hostile work:
   * the case passes within twice this, and is cut off there.
   */
  readonly budgetMs: number;
  /** The run the hostile delivery (or `gantry run`) starts ends so; `code` is its error's, or a failed node's. */
  readonly run?: { readonly status: RunStatus | readonly RunStatus[]; readonly code?: string | readonly string[] };
  /** The hostile request is answered so, instead of starting a run. */
  readonly answer?: { readonly status: number; readonly code?: string; readonly says?: RegExp; readonly header?: string; readonly emptyBody?: boolean };
  /**
   * An equally good refusal: the flow is refused before anything runs (`gantry serve` or `gantry
   * run` exits 2 at start), saying this.
   */
  readonly orRefusedBeforeRun?: RegExp;
  /** CLI: the exit status (several: any of them). */
  readonly exit?: number | readonly number[];
  /** CLI, serve-start: what stdout and stderr together must say. */
  readonly says?: RegExp;
  /** Text that must show up nowhere: outputs, API answers, the store (e.g. an outside file's content). */
  readonly never?: readonly RegExp[];
  /** The attacker's stand-in receives no request at all. */
  readonly attackerUntouched?: boolean;
  /** The configured service must have received this canary variable's value (so the case proves something). */
  readonly serviceGot?: string;
  /** The store's files (database, WAL, shm) stay below this many bytes. */
  readonly storeBelowBytes?: number;
  /** No /health probe: the case stops or kills the server on purpose. */
  readonly noHealth?: boolean;
}

export interface HostileCase {
  /** kebab-case, unique: `HOSTILE_ONLY=<id>,<id>` runs only these. */
  readonly id: string;
  /** What of issue 15 [A] it proves: the item of "What was found" (1–10), or `+` for this corpus' own. */
  readonly item: string;
  readonly title: string;
  /**
   * webhook: a signed delivery of `payload` to the hostile flow's endpoint `/hostile` of a `gantry
   * serve`; run: `gantry run flows/hostile.json [--input payload]`; validate: `gantry validate
   * flows/hostile.json`; serve-start: `gantry serve` must refuse to start; custom: `drive`.
   */
  readonly via: 'webhook' | 'run' | 'validate' | 'serve-start' | 'custom';
  /** flows/hostile.json. In every string, %ATTACKER% and %SERVICE% become the stand-ins' URLs. */
  readonly flow?: object;
  /**
   * Other files (path in the workspace → content), written before anything starts; `{ $symlink:
   * target }` makes a symbolic link.
   */
  readonly files?: Readonly<Record<string, string | object>>;
  /** Deep-merged over the base configuration (objects merged, anything else replaced). */
  readonly config?: object;
  /** Added to (or, with an empty string, overriding) the canary environment of the processes. */
  readonly env?: Readonly<Record<string, string>>;
  /** The webhook body or `--input`: an object as JSON, a string as is (%ATTACKER% and %SERVICE% replaced). */
  readonly payload?: unknown;
  /** X-GitHub-Delivery of the hostile delivery. */
  readonly delivery?: string;
  /** More arguments for `run`, `validate` or `serve`. */
  readonly args?: readonly string[];
  /** Starts the attacker and the hostile service stand-ins. */
  readonly standIns?: boolean;
  /** Bystander runs in the store before the hostile work, checked intact after (default: webhook, run). */
  readonly bystanders?: boolean;
  readonly expect: Expect;
  /** Runs with no other case at once: it loads the machine, or measures memory or pauses. */
  readonly alone?: boolean;
  /** A case of its own shape; it reports through the context. */
  readonly drive?: (ctx: CaseContext) => Promise<void>;
}

/** What a custom case gets: the workspace, the stand-ins, and where to report. */
export interface CaseContext {
  readonly c: HostileCase;
  readonly ws: Workspace;
  readonly attacker: StandIn | undefined;
  readonly service: StandIn | undefined;
  /** Every answer received (scanned for canaries). */
  readonly answers: AnswerLog;
  /** Extra process outputs to scan (a CLI run's stdout, a restarted server's). */
  readonly outputs: string[];
  /** Starts `gantry serve` in the workspace (tracked: stopped at the end, output scanned). */
  serve(options?: { env?: Record<string, string>; args?: readonly string[]; timeoutMs?: number }): Promise<Served>;
  /** A problem: the case fails with it. */
  problem(text: string): void;
  /** The time from the start of the hostile work to its refusal. */
  refused(ms: number, what: string): void;
  /** In-server time of the hostile evaluation (a node's duration), when known. */
  serverTime(ms: number): void;
  health(figures: HealthFigures): void;
  /**
   * Measures `GET /health` of the idle `served`, then probes it until the returned function is
   * called, which records the figures and checks them (HEALTH_RULE).
   */
  watchHealth(served: Served): Promise<() => Promise<void>>;
  note(text: string): void;
  /** Bystander runs for this server, to check after. */
  bystanders(served: Served): Promise<void>;
  /**
   * `serve()`, then the bystanders: the server ready for the hostile work, or undefined (and a
   * problem) when it did not start.
   */
  serveWithBystanders(): Promise<Served | undefined>;
}
