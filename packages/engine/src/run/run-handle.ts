import type { CompiledFlow } from '../compile.js';
import type { JsonObject, JsonValue } from '../flow-types.js';
import type { Decision } from './approval-waits.js';
import type { RunStatus } from './events.js';
import type { RunExecution, RunResult } from './execution.js';
import type { RunState } from './state.js';

export interface StartOptions {
  /** @default {} — each declared param falls back to its default */
  params?: JsonObject;
  /** The trigger payload: the webhook's body, `--input`. @default {} */
  trigger?: JsonValue;
  /** Who started the run; may not approve its approvals. @default the trigger's sender */
  initiator?: string;
  /** @default a new id from the engine's `ids` */
  runId?: string;
  /** Set when the run is a sub-flow's. */
  parent?: { runId: string; path: string };
}

/** A started run. */
export interface Run {
  readonly id: string;
  readonly flow: CompiledFlow;
  /** Resolves with the final status; never rejects. */
  readonly finished: Promise<RunResult>;
  status(): RunStatus;
  /** The run's state as its journal has built it (read it, do not change it). */
  state(): Readonly<RunState>;
  /** Nodes waiting for a human decision. */
  waitingApprovals(): { nodeId: string; approvers: readonly string[]; deadline: number }[];
  decide(nodeId: string, decision: Decision): void;
  cancel(): void;
}

/** The caller's view of a run: methods on a prototype, so a handle is one small object. */
export class RunHandle implements Run {
  constructor(private readonly execution: RunExecution) {}

  get id(): string {
    return this.execution.runId;
  }

  get flow(): CompiledFlow {
    return this.execution.flow;
  }

  get finished(): Promise<RunResult> {
    return this.execution.finished;
  }

  status(): RunStatus {
    return this.execution.state.status;
  }

  state(): Readonly<RunState> {
    return this.execution.state;
  }

  waitingApprovals(): { nodeId: string; approvers: readonly string[]; deadline: number }[] {
    return this.execution.waitingApprovals();
  }

  decide(nodeId: string, decision: Decision): void {
    this.execution.decideApproval(nodeId, decision);
  }

  cancel(): void {
    this.execution.cancel();
  }
}
