/**
 * The flow file format (DESIGN §2), as TypeScript types. `schemas/flow.schema.json` is the
 * authority; these types describe a document that has passed it.
 */

export type NodeType =
  | 'webhook'
  | 'function'
  | 'conditional'
  | 'parallel'
  | 'agent'
  | 'human_approval'
  | 'external_api'
  | 'wait'
  | 'subflow'
  | 'schedule';

export const NODE_TYPES: readonly NodeType[] = Object.freeze([
  'webhook',
  'function',
  'conditional',
  'parallel',
  'agent',
  'human_approval',
  'external_api',
  'wait',
  'subflow',
  'schedule',
]);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `T` with its fields writable: for records built field by field, optional fields added as found. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

export interface ParamSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  default?: JsonValue;
  description?: string;
  enum?: JsonValue[];
  minimum?: number;
  maximum?: number;
  required?: boolean;
}

export interface RetryPolicy {
  max_attempts?: number;
  backoff?: 'fixed' | 'exponential';
  initial_seconds?: number;
  max_seconds?: number;
  jitter?: boolean;
}

export interface AgentTaskSpec {
  agent: string;
  task: string;
  inputs?: string[] | JsonObject;
}

export interface NodeBodySpec {
  type: NodeType;
  data: JsonObject;
  timeout?: number;
  retry?: RetryPolicy;
}

export interface FlowNode {
  id: string;
  type: NodeType;
  description?: string;
  data: JsonObject;
  timeout?: number;
  retry?: RetryPolicy;
  join?: 'any' | 'all';
  when?: string | boolean;
  for_each?: JsonValue[] | string;
  concurrency?: number;
  output?: JsonValue;
  compensate?: AgentTaskSpec | NodeBodySpec;
}

export interface FlowEdge {
  from: string;
  to: string;
  condition?: string;
}

export interface ErrorHandler {
  stage: string;
  action?: 'block_deployment' | 'rollback' | 'fail';
  notification?: boolean;
  escalation?: 'immediate';
  message?: string;
}

export interface FlowDocument {
  $schema?: string;
  name: string;
  description?: string;
  version?: string;
  params?: Record<string, ParamSpec>;
  nodes: FlowNode[];
  edges?: FlowEdge[];
  error_handlers?: ErrorHandler[];
}

export interface GateCondition {
  metric: string;
  operator: '=' | '==' | '!=' | '>' | '>=' | '<' | '<=' | 'in' | 'not_in' | 'contains' | 'matches';
  value: JsonValue;
}

export interface RouterCondition {
  if: string;
  then: string;
  agents?: string[];
}
