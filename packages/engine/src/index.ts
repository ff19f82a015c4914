export { GantryError, isGantryError, ERROR_CODES } from './errors.js';
export type { ErrorCode, Issue, GantryErrorOptions } from './errors.js';
export { DIAGNOSTIC_CODES } from './diagnostic-codes.js';
export type { DiagnosticCode, Severity } from './diagnostic-codes.js';
export type { Diagnostic } from './diagnostics.js';
export { validateFlowText, validateFlowDocument } from './validate.js';
export type { ValidateOptions, ValidationResult } from './validate.js';
export { checkJsonText } from './json-document.js';
export type { DocumentFinding, DocumentDiagnostic, JsonDocumentOptions, JsonDocumentResult } from './json-document.js';
export { loadFlowText, loadFlowFile, compileFlow, subflowResolver, resolveFlowRef, readFailure } from './load.js';
export type { FlowRef } from './load.js';
export { flowReferences, isPlainName, isWebhookSecret } from './name-checks.js';
export type { DeclaredNames, FlowReference } from './name-checks.js';
export type { CompiledFlow, CompiledNode, CompiledEdge, EdgeCondition, ReadonlyGraph } from './compile.js';
export type { ParsedExpression } from './expression-checks.js';
export { isExpression, expressionBody } from './expression-text.js';
export { matchesPattern } from './expression-regex.js';
export { DEFAULT_EXPRESSION_LIMITS } from './expression-limits.js';
export type { ExpressionLimits } from './expression-limits.js';
export { DEFAULT_LIMITS } from './value-limits.js';
export type { EngineLimits, EngineLimitsOptions } from './value-limits.js';
export { assignJson } from './json-assign.js';
export { NODE_TYPES } from './flow-types.js';
export type {
  NodeType,
  FlowDocument,
  FlowNode,
  FlowEdge,
  ErrorHandler,
  ParamSpec,
  RetryPolicy,
  AgentTaskSpec,
  NodeBodySpec,
  GateCondition,
  RouterCondition,
  JsonValue,
  JsonObject,
} from './flow-types.js';
export { SCHEMA_DIR, generatedValidator } from './schemas.js';
export type { SchemaValidator } from './schemas.js';
export { scheduleOf, scheduleProblem, scheduledRunId, SCHEDULE_LOOKBACK, SCHEDULE_RUN_PREFIX } from './schedule.js';
export type { Schedule, ScheduleData, CatchUp } from './schedule.js';
export { closest, didYouMean, Vocabulary } from './suggest.js';
export type {
  RunStatus,
  FinalRunStatus,
  ErrorInfo,
  RunEvent,
  RunEventType,
  RunEventOf,
  RunStartedEvent,
  NodeStartedEvent,
  NodeRetryingEvent,
  NodeSucceededEvent,
  NodeFailedEvent,
  NodeSkippedEvent,
  ApprovalRequestedEvent,
  ApprovalDecidedEvent,
  TimerSetEvent,
  TimerFiredEvent,
  RunWaitingEvent,
  CompensationEvent,
  NotificationSentEvent,
  RunFinishedEvent,
  RunRetriedEvent,
  NodeLogEvent,
  LogLine,
} from './run/events.js';
export { RUN_EVENT_TYPES } from './run/events.js';
export { systemClock, FakeClock } from './run/clock.js';
export type { Clock } from './run/clock.js';
export { defineExecutor } from './run/interfaces.js';
export type {
  ExecutorResult,
  ExecutorContext,
  ExecutorDefinition,
  AgentReply,
  AgentTask,
  AgentTaskSample,
  AgentCallContext,
  TaskOutput,
  AgentTransport,
  AgentRegistration,
  Connector,
  ConnectorContext,
  FlowFunction,
  FunctionContext,
  ApprovalRequest,
  ApprovalOutcome,
  SubflowOutcome,
} from './run/interfaces.js';
export { createEngine } from './run/engine.js';
export type { Engine, RetryOptions } from './run/engine.js';
export type { Run, StartOptions } from './run/run-handle.js';
export type { RunResult } from './run/execution.js';
export type { EngineOptions, CrashLoopOptions, Notification, Notifier } from './run/options.js';
export { LOG_DEFAULTS } from './run/log-options.js';
export type { LogOptions } from './run/log-options.js';
export type { Decision } from './run/approval-waits.js';
export { MemoryStore, recordOfRow, checkAfterSeq } from './run/store.js';
export { readEventsAfter, readRuns } from './run/store-reads.js';
export { linesOf, underNode } from './run/placed-lines.js';
export type { PlacedLine, DroppedLines, LinePlace } from './run/placed-lines.js';
export type { PeerInfo, JournalHead, HeadsQuery, HeadsAnswer } from './run/shared-store.js';
export type { MemoryStoreOptions } from './run/store.js';
export type { RunStore, RunRecord, RunFilter, ResumptionCount, Awaitable, JournalBatch, CreatedRun, StatusChange, CommitOutcome, StoreHealth, RunRow } from './run/store.js';
export { replay, applyEvent } from './run/state.js';
export type { RunState, NodeState, NodeStatus } from './run/state.js';
export { takenOnSuccess, takenOnFailure, inputOf } from './run/rules.js';
export { readiness, frontierOf, owed, failureRoute, finalStatus, waitsOn, retryPlan, Frontier, RETRYABLE_STATUSES } from './run/next.js';
export type { Readiness, Owed, InFlight, FailureRoute, WaitingOn } from './run/next.js';
export { approvalState, eligibleRoles, foldName, principalNameClashes } from './approvals.js';
export type { PrincipalDirectory, PrincipalNameClash } from './approvals.js';
export { resolveParams, coerceParam } from './run/params.js';
export { resolveRetry, retryDelayMs } from './run/backoff.js';
export { validateConfigText, parseConfigText, credentialVariable, declaredNames } from './config.js';
export type { AgentConfig, GantryConfig, LimitsConfig, CredentialDeclaration } from './config.js';
export type { ConfigPlace } from './config-checks.js';
export { rootCause, failurePath } from './root-cause.js';
export type { RootCause, FailureHop } from './root-cause.js';
export { forEachItems } from './for-each-items.js';
