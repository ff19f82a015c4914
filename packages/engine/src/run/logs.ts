import type { Writable } from '../flow-types.js';
import type { LogLine, NodeLogEvent } from './events.js';
import type { TaskOutput } from './interfaces.js';
import type { Clock } from './clock.js';
import type { ResolvedLogOptions } from './log-options.js';

/** What a run's logs need of their run (the execution is one): its id, clock, bytes kept so far, journal. */
export interface LogScope {
  readonly runId: string;
  readonly state: { readonly logBytes?: number };
  readonly core: { readonly options: { readonly clock: Clock } };
  /** The time of the run's next event: a node.log is in step with the events around it. */
  now(): number;
  record(event: NodeLogEvent): void;
}

/**
 * A run's logs (DESIGN §12): made when an attempt of the run first logs or calls an agent, never
 * for a run whose executors do neither. It holds the run's bound (bytes kept by every attempt,
 * counted from the journal after a restart) and the attempts whose lines are not all journaled.
 */
export class RunLogs {
  /** Bytes of lines the run has kept so far. */
  bytes: number;
  private readonly open = new Set<AttemptLog>();

  constructor(
    readonly scope: LogScope,
    readonly options: ResolvedLogOptions,
  ) {
    this.bytes = scope.state.logBytes ?? 0;
  }

  /** The output of one attempt (of a for_each item, of a compensation). */
  attempt(nodeId: string, attempt: number, item: number | undefined, compensation: boolean): AttemptLog {
    return new AttemptLog(this, nodeId, attempt, item, compensation);
  }

  opened(log: AttemptLog): void {
    this.open.add(log);
  }

  closed(log: AttemptLog): void {
    this.open.delete(log);
  }

  /**
   * The run ends: every attempt's last lines are journaled before its run.finished (or, when the
   * journal itself failed, dropped with it), and later writes are ignored.
   */
  closeAll(journal: boolean): void {
    for (const log of [...this.open]) log.close(journal);
  }
}

/**
 * What one attempt logged or printed: lines kept in order up to the attempt's and the run's
 * bounds, the rest counted; journaled as `node.log` events every `flushMs` while the attempt
 * runs, and the rest when it ends, before its node.succeeded or node.failed.
 */
export class AttemptLog implements TaskOutput {
  private lines: LogLine[] = [];
  private bytes = 0;
  private dropped = 0;
  /** A line was dropped: a bound is reached, and later drops wait for the attempt's end. */
  private full = false;
  private keptLines = 0;
  private keptBytes = 0;
  /** Per source, the start of a line whose newline has not come yet. */
  private partial: Map<string, string> | undefined = undefined;
  private cancelFlush: (() => void) | undefined = undefined;
  private done = false;

  constructor(
    private readonly run: RunLogs,
    readonly nodeId: string,
    readonly attempt: number,
    readonly item: number | undefined,
    readonly compensation: boolean,
  ) {}

  write(text: string, source = 'output'): void {
    if (this.done || typeof text !== 'string' || text === '') return;
    const pending = this.partial?.get(source);
    const parts = (pending === undefined ? text : pending + text).split('\n');
    const rest = parts.pop()!;
    for (const part of parts) this.line(part, source, undefined);
    // A "line" that never ends is cut where a line would be, not held for ever.
    if (rest.length > this.run.options.maxLineLength) this.line(rest, source, undefined);
    else if (rest !== '') (this.partial ??= new Map()).set(source, rest);
    else this.partial?.delete(source);
  }

  /** A line of the executor's logger, at its level. */
  logged(level: string, text: string): void {
    if (this.done) return;
    for (const part of text.split('\n')) this.line(part, 'log', level);
  }

  private line(raw: string, source: string, level: string | undefined): void {
    const o = this.run.options;
    const trimmed = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (trimmed.trim() === '') return;
    const text = trimmed.length > o.maxLineLength ? `${trimmed.slice(0, o.maxLineLength)}… [cut: ${trimmed.length} characters]` : trimmed;
    const bytes = Buffer.byteLength(text);
    if (this.keptLines >= o.maxLinesPerAttempt || this.keptBytes + bytes > o.maxBytesPerAttempt || this.run.bytes + bytes > o.maxBytesPerRun) {
      this.dropped++;
      // The first drop is journaled with the next lines; the rest are counted at the end: an
      // agent that keeps printing past its bound must not add an event every flushMs for ever.
      if (!this.full) {
        this.full = true;
        this.schedule();
      }
      return;
    }
    const line: Writable<LogLine> = { at: this.run.scope.core.options.clock.now(), source, text };
    if (level !== undefined) line.level = level;
    this.lines.push(line);
    this.bytes += bytes;
    this.keptLines++;
    this.keptBytes += bytes;
    this.run.bytes += bytes;
    this.schedule();
  }

  /** Lines wait a moment to be journaled together, on the engine's clock (a fake one in tests). */
  private schedule(): void {
    if (this.cancelFlush !== undefined) return;
    this.run.opened(this);
    const clock = this.run.scope.core.options.clock;
    this.cancelFlush = clock.at(clock.now() + this.run.options.flushMs, () => {
      this.cancelFlush = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.lines.length === 0 && this.dropped === 0) return;
    const x = this.run.scope;
    const event: Writable<NodeLogEvent> = { type: 'node.log', runId: x.runId, at: x.now(), nodeId: this.nodeId, attempt: this.attempt, lines: this.lines, bytes: this.bytes };
    if (this.item !== undefined) event.item = this.item;
    if (this.dropped > 0) event.dropped = this.dropped;
    if (this.compensation) event.compensation = true;
    this.lines = [];
    this.bytes = 0;
    this.dropped = 0;
    x.record(event);
  }

  /** The attempt has ended: its last lines (a partial one too) are journaled now, and nothing after. */
  close(journal = true): void {
    if (this.done) return;
    if (this.partial !== undefined) for (const [source, rest] of this.partial) this.line(rest, source, undefined);
    this.done = true;
    this.partial = undefined;
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    this.run.closed(this);
    if (journal) this.flush();
  }
}
