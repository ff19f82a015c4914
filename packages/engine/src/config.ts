import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import { checkJsonText, type DocumentFinding } from './json-document.js';
import { joinPointer, splitPointer } from './json-source.js';
import { principalNameClashes } from './run/approvals.js';
import { SCHEMA_DIR } from './schemas.js';
import { GantryError } from './errors.js';

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

/** gantry.config.json (DESIGN §6), as validated by schemas/config.schema.json. */
export interface GantryConfig {
  agents?: Record<string, AgentConfig>;
  functions?: Record<string, { module: string; export?: string }>;
  connectors?: Record<string, { base_url?: string; timeout_ms?: number; credential?: string }>;
  outbound?: OutboundConfig;
  credentials?: Record<string, { env: string }>;
  principals?: Record<string, { roles: string[]; aliases?: string[]; token_sha256?: string }>;
  notifications?: { service: string; action: string; authentication?: string; params?: Record<string, unknown> };
  store?: {
    path?: string;
    /** Postgres, shared by several processes (DESIGN §9); the URL is read from the variable `url_env` names, never from the file. */
    postgres?: { url_env: string; lease_ms?: number; poll_ms?: number; pool_size?: number; connect_timeout_ms?: number; park_after_ms?: number };
  };
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
 * The environment variable a credential is read from (DESIGN §6): as the configuration's
 * `credentials` names it, else the credential's name in upper case (github_token → GITHUB_TOKEN).
 */
export function credentialVariable(config: GantryConfig | undefined, name: string): string {
  return config?.credentials?.[name]?.env ?? name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

let configSchema: object | undefined;

/** `agents.reviewer.module`, or `the configuration` for the whole file. */
function describeConfigPointer(_document: unknown, pointer: string): string {
  const segments = splitPointer(pointer);
  return segments.length === 0 ? 'the configuration' : segments.join('.');
}

/** Validates a configuration file's text with the same diagnostics as flows: code, pointer, line:col. */
export function validateConfigText(text: string): { ok: boolean; diagnostics: Diagnostic[]; config: GantryConfig | undefined } {
  configSchema ??= JSON.parse(readFileSync(join(SCHEMA_DIR, 'config.schema.json'), 'utf8')) as object;
  const { ok, value, diagnostics } = checkJsonText(text, configSchema, { describe: describeConfigPointer, check: (document) => clashFindings(document as GantryConfig) });
  return { ok, diagnostics: [...diagnostics], config: ok ? (value as GantryConfig) : undefined };
}

/** Principal names and aliases that name two principals ignoring case (BAD_VALUE), at the later of the two. */
function clashFindings(config: GantryConfig): DocumentFinding<'BAD_VALUE'>[] {
  return principalNameClashes(config.principals).map(({ path, message }) => ({
    code: 'BAD_VALUE' as const,
    severity: 'error' as const,
    pointer: path.reduce<string>(joinPointer, '/principals'),
    message,
    atKey: path.length === 1,
  }));
}

/** Validates a configuration file's text or throws CONFIG_INVALID listing every problem. */
export function parseConfigText(text: string, source = 'gantry.config.json'): GantryConfig {
  const result = validateConfigText(text);
  if (result.ok) return result.config!;
  const lines = result.diagnostics.map((d) => `  ${source}:${d.line}:${d.column} ${d.code} ${d.message}`);
  throw new GantryError('CONFIG_INVALID', `${source} is not a valid configuration:\n${lines.join('\n')}`, {
    issues: result.diagnostics.map(({ pointer, line, column, message, code }) => ({ pointer, line, column, message, code })),
  });
}
