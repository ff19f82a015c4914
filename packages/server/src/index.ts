/**
 * @gantry/server: `gantry serve` as a library (DESIGN §7) — webhook triggers with GitHub
 * signatures, the approvals and runs API, Prometheus metrics and a health check, and the web UI
 * with its live streams (DESIGN §10), on node:http.
 */
export { createServer } from './server.js';
export type { GantryServer, ServerAddress, ServedWebhook } from './server.js';
export { DEFAULT_BODY_LIMIT } from './options.js';
export { scheduleSlots, lastRunOf, SCHEDULE_RUN_PREFIX } from './schedules.js';
export type { ServedSchedule, ScheduleSlot, LastRun } from './schedules.js';
export type { ServerOptions } from './options.js';
export { loadFlowsFolder } from './flows-folder.js';
export { HTTP_ERRORS, ENGINE_ERROR_STATUS } from './http-errors.js';
export type { HttpErrorCode } from './http-errors.js';
export { METRIC_NAMES } from './metrics.js';
export { signatureMatches, isSignatureScheme } from './webhook-auth.js';
export type { PrincipalTokens } from './principals.js';
export { DELIVERY_RUN_PREFIX, deliveryRunId } from './webhooks.js';
export { CONTENT_SECURITY_POLICY } from './ui-files.js';
export type { RunGraph, GraphNode, GraphEdge } from './run-graph.js';
export type { ClusterView, ClusterPeer } from './cluster.js';
export type { HeadsAnswer, HeadsQuery, JournalHead } from '@gantry/engine';
