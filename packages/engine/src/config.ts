import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { DIAGNOSTIC_CODES } from './diagnostic-codes.js';
import { placeFindings, type Diagnostic, type Finding } from './diagnostics.js';
import { JsonSource, joinPointer, splitPointer } from './json-source.js';
import { principalNameClashes } from './run/approvals.js';
import { schemaFindings } from './schema-findings.js';
import { SCHEMA_DIR } from './schemas.js';
import { GantryError } from './errors.js';
import type { DeclaredNames } from './name-checks.js';
import { configFindings, type ConfigPlace } from './config-checks.js';

/** One agent of gantry.config.json: its transport and that transport's settings (DESIGN §5). */
export interface AgentConfig {
  transport: 'module' | 'http' | 'command' | 'flow' | 'llm';
  /** module */
  module?: string;
  export?: string;
  /** http */
  url?: string;
  poll_interval_ms?: number;
  /** llm */
  base_url?: string;
  model?: string;
  /** llm: what the agent is, added to its system prompt. */
  role?: string;
  /** http, llm: a credential name, sent as a bearer token; command: given to the program in its environment. */
  authentication?: string;
  /** command */
  command?: string;
  args?: string[];
  /** command: the variables passed on to the program besides the minimal environment. */
  env?: string[];
  /** Any transport: task → the flow file that performs it (transport flow: every task). */
  flows?: Record<string, string>;
  timeout_ms?: number;
  concurrency?: number;
  circuit_breaker?: { failures?: number; reset_ms?: number };
  compensations?: Record<string, string>;
}

/** The outbound policy of every HTTP call (connectors, http and llm agents); defaults in the schema. */
export interface OutboundConfig {
  timeout_ms?: number;
  connect_timeout_ms?: number;
  max_response_bytes?: number;
  max_attempts?: number;
  retry_base_ms?: number;
  retry_max_ms?: number;
  max_retry_after_ms?: number;
  max_redirects?: number;
  allow_private_networks?: boolean;
  allow?: string[];
}

/** A credential (DESIGN §11): where its value is, and where it may be sent. */
export interface CredentialDeclaration {
  env: string;
  /** Origins such as `https://api.github.com`. @default those of the connectors and agents that name it */
  origins?: string[];
}

/** gantry.config.json (DESIGN §6), as validated by schemas/config.schema.json. */
export interface GantryConfig {
  agents?: Record<string, AgentConfig>;
  functions?: Record<string, { module: string; export?: string }>;
  connectors?: Record<string, { base_url?: string; timeout_ms?: number; credential?: string }>;
  outbound?: OutboundConfig;
  credentials?: Record<string, CredentialDeclaration>;
  principals?: Record<string, { roles: string[]; aliases?: string[]; token_sha256?: string }>;
  notifications?: { service: string; action: string; authentication?: string; params?: Record<string, unknown> };
  store?: { path?: string };
  server?: {
    port?: number;
    host?: string;
    body_limit_bytes?: number;
    buffered_bytes_limit?: number;
    connection_limit?: number;
    json_depth_limit?: number;
    headers_timeout_ms?: number;
    request_timeout_ms?: number;
  };
  concurrency?: number;
  /** Size limits and expression caps (DESIGN §11); defaults in the schema. */
  limits?: LimitsConfig;
  crash_loop?: { limit?: number; survival_ms?: number };
}

/** gantry.config.json `limits`, in the file's spelling. */
export interface LimitsConfig {
  node_output_bytes?: number;
  agent_reply_bytes?: number;
  connector_answer_bytes?: number;
  trigger_bytes?: number;
  expression?: {
    max_string?: number;
    max_array?: number;
    max_depth?: number;
    max_steps?: number;
    max_built?: number;
    max_value?: number;
    timeout_ms?: number;
  };
}

/**
 * The environment variable a credential is read from: the one its declaration names, or
 * undefined when the configuration does not declare it (DESIGN §11: no other variable is read).
 */
export function credentialVariable(config: GantryConfig | undefined, name: string): string | undefined {
  return config?.credentials !== undefined && Object.hasOwn(config.credentials, name) ? config.credentials[name]!.env : undefined;
}

/**
 * The names a configuration declares, as flows are checked against them; `builtins` are the
 * functions and services that exist without it (the executors' built-ins).
 */
export function declaredNames(config: GantryConfig, builtins: { functions: Iterable<string>; services: Iterable<string> }): DeclaredNames {
  const agents = new Map<string, ReadonlySet<string> | undefined>();
  for (const [name, agent] of Object.entries(config.agents ?? {})) {
    // Only a flow agent lists every task it performs; another transport takes any task.
    agents.set(name, agent.transport === 'flow' ? new Set(Object.keys(agent.flows ?? {})) : undefined);
  }
  return {
    agents,
    functions: new Set([...builtins.functions, ...Object.keys(config.functions ?? {})]),
    services: new Set(builtins.services),
    credentials: new Set(Object.keys(config.credentials ?? {})),
  };
}


/** `agents.reviewer.module`, or `the configuration` for the whole file. */
function describeConfigPointer(_document: unknown, pointer: string): string {
  const segments = splitPointer(pointer);
  return segments.length === 0 ? 'the configuration' : segments.join('.');
}

/**
 * Validates a configuration file's text with the same diagnostics as flows: code, pointer,
 * line:col. With `place`, its agents' flows are checked on disk too.
 */
export function validateConfigText(text: string, place: ConfigPlace = {}): { ok: boolean; diagnostics: Diagnostic[]; config: GantryConfig | undefined } {
  const source = new JsonSource(text);
  const parsed = source.parse();
  if (!parsed.ok) {
    const diagnostics = parsed.problems.map((p) => ({ code: 'JSON_SYNTAX' as const, severity: DIAGNOSTIC_CODES.JSON_SYNTAX.severity, pointer: '', line: p.line, column: p.column, message: p.message }));
    return { ok: false, diagnostics, config: undefined };
  }
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(join(SCHEMA_DIR, 'config.schema.json'), 'utf8')) as object,
  );
  const valid = validator(parsed.value) === true;
  // The cross-checks read a configuration of the right shape only.
  const findings = valid ? [...configFindings(parsed.value as GantryConfig, place), ...clashFindings(parsed.value as GantryConfig)] : schemaFindings(parsed.value, validator.errors ?? [], describeConfigPointer);
  const { diagnostics } = placeFindings(findings, source);
  const ok = diagnostics.every((d) => d.severity !== 'error');
  return { ok, diagnostics, config: ok ? (parsed.value as GantryConfig) : undefined };
}

/** Validates a configuration file's text or throws CONFIG_INVALID listing every problem. */
export function parseConfigText(text: string, source = 'gantry.config.json', place: ConfigPlace = {}): GantryConfig {
  const result = validateConfigText(text, place);
  if (result.ok) return result.config!;
  const lines = result.diagnostics.map((d) => `  ${source}:${d.line}:${d.column} ${d.code} ${d.message}`);
  throw new GantryError('CONFIG_INVALID', `${source} is not a valid configuration:\n${lines.join('\n')}`, {
    issues: result.diagnostics.map(({ pointer, line, column, message, code }) => ({ pointer, line, column, message, code })),
  });
}

let validator: ValidateFunction | undefined;

/** Principal names and aliases that name two principals ignoring case (BAD_VALUE), at the later of the two. */
function clashFindings(config: GantryConfig): Finding[] {
  return principalNameClashes(config.principals).map(({ path, message }) => ({ code: 'BAD_VALUE' as const, pointer: path.reduce<string>(joinPointer, '/principals'), message, atKey: path.length === 1 }));
}
