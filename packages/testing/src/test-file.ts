import type { FinalRunStatus, JsonObject, JsonValue } from '@gantry/engine';

/** What a file gives every test, and a test may override: the run's input, the scripts, the approvals. */
export interface RunSetup {
  readonly params?: JsonObject;
  readonly trigger?: JsonValue;
  readonly initiator?: string;
  readonly agents?: AgentScripts;
  readonly connectors?: ConnectorScripts;
  readonly functions?: FunctionScripts;
  readonly approvals?: readonly Approval[];
}

/** A flow test file as `schemas/flow-test.schema.json` describes it. */
export interface TestFile extends RunSetup {
  readonly flow: string;
  readonly description?: string;
  readonly config?: string;
  readonly use?: { readonly agents?: readonly string[]; readonly functions?: readonly string[] };
  readonly principals?: Readonly<Record<string, { readonly roles: readonly string[]; readonly aliases?: readonly string[] }>>;
  readonly tests: readonly TestCase[];
}

/** One test: one run of the flow. What it gives overrides the file's. */
export interface TestCase extends RunSetup {
  readonly name: string;
  readonly description?: string;
  readonly expect: Expectations;
}

/** agent → task → script. */
export type AgentScripts = Readonly<Record<string, Readonly<Record<string, AgentScript>>>>;
/** service → action → script. */
export type ConnectorScripts = Readonly<Record<string, Readonly<Record<string, CallScript>>>>;
/** function → script. */
export type FunctionScripts = Readonly<Record<string, CallScript>>;

/** `"flow"` runs the flow the configuration maps the task to. */
export type AgentScript = 'flow' | AgentReplyScript | readonly AgentReplyScript[];
export type CallScript = CallReplyScript | readonly CallReplyScript[];

interface ReplyCommon {
  readonly match?: JsonObject;
  readonly times?: number;
  readonly after_seconds?: number;
}

export interface AgentReplyScript extends ReplyCommon {
  readonly result?: JsonObject;
  readonly metrics?: JsonObject;
  readonly error?: { readonly message: string; readonly retryable?: boolean };
}

export interface CallReplyScript extends ReplyCommon {
  readonly result?: JsonObject;
  readonly error?: { readonly message: string; readonly code?: string; readonly retryable?: boolean };
}

export interface Approval {
  readonly node: string;
  readonly principal: string;
  readonly decision: 'approve' | 'reject';
  readonly comment?: string;
  readonly after_seconds?: number;
}

export interface ErrorPattern {
  readonly code?: string;
  readonly message?: string;
  readonly retryable?: boolean;
  readonly node?: string;
}

export interface NodeExpectation {
  readonly status?: 'succeeded' | 'failed' | 'skipped';
  readonly attempts?: number;
  readonly input?: JsonObject;
  readonly output?: JsonObject | JsonValue[];
  readonly error?: ErrorPattern;
  readonly labels?: readonly string[];
  readonly skip_reason?: 'join' | 'when' | 'aborted';
}

/** A call an expectation names; objects match partially. */
export interface CallPattern {
  readonly agent?: string;
  readonly task?: string;
  readonly inputs?: JsonObject;
  readonly connector?: string;
  readonly action?: string;
  readonly params?: JsonObject;
  readonly function?: string;
  readonly input?: JsonObject;
  readonly node?: string;
  readonly run?: string;
}

export interface NotificationPattern {
  readonly severity?: 'normal' | 'high';
  readonly message?: string;
  readonly node?: string;
  readonly run?: string;
}

export interface Expectations {
  readonly status?: FinalRunStatus;
  readonly error?: ErrorPattern;
  readonly output?: JsonObject;
  readonly ran?: readonly string[];
  readonly skipped?: readonly string[];
  readonly nodes?: Readonly<Record<string, NodeExpectation>>;
  readonly calls?: readonly CallPattern[];
  readonly calls_in_order?: boolean;
  readonly no_other_calls?: boolean;
  readonly not_called?: readonly CallPattern[];
  readonly notifications?: readonly NotificationPattern[];
  readonly elapsed_seconds?: number;
  readonly subflows?: Readonly<Record<string, Expectations>>;
}
