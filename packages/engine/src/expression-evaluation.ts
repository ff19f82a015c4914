/*
 * One evaluation's counts and the hooks JSONata calls on entering and leaving each step of it:
 * steps and depth are counted on entry, every value a step returns is looked at on exit, so a
 * string or an array is refused the step it passes its cap, long before V8's own limits.
 */
import type { ExpressionLimits } from './expression-limits.js';
import { claimLastRegex, type RegexMeter } from './expression-regex.js';
import { valueSize } from './value-size.js';

/** An evaluation passed one of its caps; `cap` says which, in words. */
export class ExpressionLimitError extends Error {
  constructor(readonly cap: string) {
    super(cap);
  }
}

/** Where the running evaluation keeps its counts: a binding no expression can name. */
const GUARD = ' gantry-evaluation';
const STATE = Symbol('gantry-evaluation');

/** Steps between two readings of the clock. */
const CLOCK_EVERY = 128;
/** Characters and items built between two readings of the clock (a range of thousands is one step). */
const BUILT_PER_CLOCK = 16_384;

/** The evaluation that reported last: the one the time since then is charged to. */
let current: Evaluation | undefined;

/** One evaluation's counts, from its first step to its result. */
export class Evaluation implements RegexMeter {
  steps = 0;
  built = 0;
  /** The step count at which the clock is read next. */
  nextClock = CLOCK_EVERY;
  /** The built count at which the clock is read next: a few steps that build much take long too. */
  nextBuiltClock = BUILT_PER_CLOCK;
  /** Milliseconds of its own work so far, and when it last took over. */
  private active = 0;
  private since = 0;
  /** When it last let the event loop run (or began). */
  private ranSince = performance.now();

  constructor(readonly limits: ExpressionLimits) {}

  charge(steps: number, what: string): void {
    this.steps += steps;
    if (this.steps > this.limits.maxSteps) throw new ExpressionLimitError(`took more than ${this.limits.maxSteps} steps (${what})`);
  }

  /** Its turn: the time since the last report goes to whoever made it. */
  resume(): void {
    const now = performance.now();
    if (current !== undefined) current.active += now - current.since;
    this.since = now;
    current = this;
  }

  /**
   * Past its time limit, throws; past a slice of the event loop, pauses (its promise resolves
   * after the loop's other work, timers and I/O included): JSONata awaits only promises already
   * settled, so without this a long evaluation would hold up the whole process.
   */
  checkTime(): Promise<void> | undefined {
    const now = performance.now();
    if (this.active + now - this.since > this.limits.timeoutMs) {
      throw new ExpressionLimitError(`ran longer than ${this.limits.timeoutMs} ms of its own work`);
    }
    if (now - this.ranSince < SLICE_MS) return undefined;
    this.active += now - this.since;
    if (current === this) current = undefined;
    return new Promise((resolve) => setImmediate(() => {
      this.ranSince = performance.now();
      resolve();
    }));
  }

  /** The evaluation is over: time after this is nobody's. */
  end(): void {
    if (current === this) current = undefined;
  }

  /**
   * Sets the bindings entry that carries it into JSONata, in bindings made once for many
   * evaluations: JSONata copies them into its frame as it starts, before its first await.
   */
  bindInto(bindings: Record<string, unknown>): void {
    bindings[GUARD] = this;
  }
}

export interface Frame {
  lookup(name: string): unknown;
  base: Frame & { depth: number; [STATE]?: Evaluation; options?: object; createSequence?: (...items: unknown[]) => unknown[] };
}

interface Node {
  type: string;
  value?: unknown;
}

export function evaluationOf(environment: Frame): Evaluation {
  const base = environment.base;
  let evaluation = base[STATE];
  if (evaluation === undefined) {
    evaluation = base[STATE] = base.lookup(GUARD) as Evaluation;
    sizeSequences(base, evaluation.limits.maxArray);
  }
  return evaluation;
}

/** JSONata's own sequence cap, set per evaluation (its option is fixed when an expression is parsed). */
function sizeSequences(base: Frame['base'], maxArray: number): void {
  base.options = { sequence: maxArray };
  base.createSequence = function (...items: unknown[]) {
    const sequence: unknown[] & { sequence?: boolean } = [];
    sequence.push = function (...more: unknown[]) {
      if (sequence.length + more.length > maxArray) throw new ExpressionLimitError(`built an array of more than ${maxArray} items`);
      return Array.prototype.push.apply(sequence, more);
    };
    sequence.sequence = true;
    if (items.length === 1) sequence.push(items[0]);
    return sequence;
  };
}

/** How long an evaluation runs before it lets the event loop go round (a server answers meanwhile). */
const SLICE_MS = 10;

/**
 * Marks the terms of an order-by (`^(…)`): JSONata's order-by merges in memory that grows with
 * the square of the items, so each comparison counts for more than a step, and an order-by of
 * many thousands of items runs out of steps long before it runs out of memory.
 */
export const SORT_TERM = Symbol('gantry-sort-term');
const SORT_TERM_STEPS = 8;

export function entered(expr: Node, _input: unknown, environment: Frame): Promise<void> | undefined {
  const evaluation = evaluationOf(environment);
  if (current !== evaluation) evaluation.resume();
  if ((expr as { [SORT_TERM]?: boolean })[SORT_TERM] === true) evaluation.steps += SORT_TERM_STEPS;
  if (environment.base.depth > evaluation.limits.maxDepth) throw new ExpressionLimitError(`nested deeper than ${evaluation.limits.maxDepth} levels`);
  if (++evaluation.steps > evaluation.limits.maxSteps) throw new ExpressionLimitError(`took more than ${evaluation.limits.maxSteps} steps`);
  // The clock is read every CLOCK_EVERY steps only: a trivial expression never reads it, so it
  // can never fail for time however busy the machine is.
  if (evaluation.steps < evaluation.nextClock) return undefined;
  evaluation.nextClock = evaluation.steps + CLOCK_EVERY;
  return evaluation.checkTime();
}

/**
 * Steps whose value was checked where it was made: one that already existed (a name, a
 * variable, a branch taken), or a call's (a built-in checks its own value, a lambda's body
 * was checked step by step).
 */
const PASSING = new Set(['variable', 'name', 'string', 'number', 'value', 'parent', 'lambda', 'condition', 'block', 'bind', 'function', 'partial', 'apply']);

export function exited(expr: Node, _input: unknown, environment: Frame, result: unknown): void {
  const evaluation = evaluationOf(environment);
  if (current !== evaluation) evaluation.resume();
  if (expr.type === 'regex') {
    // Its matches are charged to this evaluation's steps.
    const regex = claimLastRegex();
    if (regex !== undefined) regex.meter = evaluation;
    return;
  }
  checkValue(evaluation, result, !PASSING.has(expr.type));
}

/** The caps on a value a step gives: its length, and what it adds to all that was built. */
export function checkValue(evaluation: Evaluation, result: unknown, built: boolean): void {
  const { limits } = evaluation;
  if (typeof result === 'string') {
    if (result.length > limits.maxString) throw new ExpressionLimitError(`built a string of more than ${limits.maxString} characters`);
    if (built) evaluation.built += result.length;
  } else if (typeof result === 'object' && result !== null) {
    const isArray = Array.isArray(result);
    if (isArray && result.length > limits.maxArray) throw new ExpressionLimitError(`built an array of more than ${limits.maxArray} items`);
    if (!built) return;
    if (isArray) evaluation.built += result.length;
    if (valueSize(result, limits.maxValue) > limits.maxValue) throw new ExpressionLimitError(`built a value larger than ${limits.maxValue} characters as JSON`);
  } else {
    return;
  }
  if (evaluation.built > limits.maxBuilt) throw new ExpressionLimitError(`built more than ${limits.maxBuilt} characters and items in all`);
  if (evaluation.built >= evaluation.nextBuiltClock) {
    // The next step reads the clock: it may pause for the event loop, or find the time spent.
    evaluation.nextBuiltClock = evaluation.built + BUILT_PER_CLOCK;
    evaluation.nextClock = evaluation.steps;
  }
}

