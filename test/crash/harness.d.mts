// Types of harness.mjs (plain ESM, shared with soak.mjs), for crash.test.ts.
import type { RunEvent, RunRecord } from '@gantry/engine';

export const RUN_ID: string;
export const JOBS: number;
export function setJobs(n: number | string): void;

export interface Built {
  flow: { name: string; nodes: { id: string; type: string; [key: string]: unknown }[]; edges: { from: string; to: string; condition?: string }[] };
  delays: Record<string, number>;
  fanoutChildren: string[];
  items: number[];
  waitNode: string;
  waitMs: number;
  retryNode: string;
  variant: number;
}
export function buildFlow(seed: number): Built;

export interface Problem {
  message: string;
  /** Set when the problem is a known engine bug (a key of KNOWN_BUGS). */
  bug?: string;
}
export interface Crash {
  /** A named point (GANTRY_CRASH), e.g. `after-start:b1_0`. */
  point?: string;
  /** Or: the parent kills the child this long after it said it was running. */
  afterMs?: number;
  /** A point that may not be reached (after-append:N past the end): finishing is allowed. */
  mayFinish?: boolean;
}
export interface Reference {
  seed: number;
  dir: string;
  runMs: number | undefined;
  /** How many appends (store transactions) the run took. */
  appends: number;
  summary: { result: { status: string; output: unknown; error: unknown } | undefined; ends: Record<string, string>; outputs: Record<string, unknown> };
  applied: string[];
  printed: { status: string; output: unknown; error: unknown };
}
export interface ProcessOutcome {
  crash: Crash | undefined;
  mode: 'start' | 'resume';
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  runMs: number | undefined;
}
export interface Outcome {
  seed: number;
  crashes: Crash[];
  dir: string;
  db: string;
  effects: string;
  processes: ProcessOutcome[];
  events: RunEvent[];
  effectLines: { key: string; node: string; path: string; attempt: number; agent: string; task: string; pid: number; applied: boolean }[];
  problems: Problem[];
}
export interface NamedCase {
  crashes: ((built: Built) => string | undefined)[];
  /** The known bug (a key of KNOWN_BUGS) this case is the regression example of. */
  bug?: string;
  /** That bug is fixed: the case must pass. */
  fixed?: boolean;
}

export function assertBuilt(): void;
export function readJournal(db: string): { events: RunEvent[]; record: RunRecord | undefined };
export function referenceRun(seed: number, dir?: string): Promise<Reference>;
export function crashScenario(options: { seed: number; crashes: Crash[]; reference?: Reference; dir?: string }): Promise<Outcome>;
export function randomCrashes(seed: number, reference: Reference): { afterMs: number }[];
export function appendCrash(seed: number, reference: Reference): Crash[];
export const NAMED_CASES: NamedCase[];
export const KNOWN_BUGS: Record<string, string>;
export function namedCrashes(namedCase: NamedCase, built: Built): { point: string }[] | undefined;
export function seedFor(namedCase: NamedCase, i: number, seeds: readonly number[]): number | undefined;
export function caseName(namedCase: NamedCase, built: Built): string;
export function unexpected(problems: Problem[], strict?: boolean): Problem[];
export function describeFailure(outcome: Outcome): string;
export function cleanUp(dir: string): void;
export function tempDir(prefix?: string): string;
