import { join } from 'node:path';
import type { Diagnostic, Finding } from './diagnostics.js';
import { checkJsonText, withSeverity } from './json-document.js';
import { joinPointer } from './json-source.js';
import { principalNameClashes } from './approvals.js';
import { generatedValidator, SCHEMA_DIR, type SchemaValidator } from './schemas.js';
import { GantryError } from './errors.js';
import type { DeclaredNames } from './name-checks.js';
import { configFindings, describeConfigPointer, type ConfigPlace } from './config-checks.js';

export type { AgentConfig, CredentialDeclaration, GantryConfig, LimitsConfig, OutboundConfig } from './config-types.js';
import type { GantryConfig } from './config-types.js';

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

let configValidator: SchemaValidator | undefined;

/**
 * Validates a configuration file's text with the same diagnostics as flows: code, pointer,
 * line:col. With `place`, its agents' flows are checked on disk too.
 */
export function validateConfigText(text: string, place: ConfigPlace = {}): { ok: boolean; diagnostics: Diagnostic[]; config: GantryConfig | undefined } {
  const validator = (configValidator ??= generatedValidator(join(SCHEMA_DIR, 'validate-config.cjs')));
  const result = checkJsonText(text, validator, {
    describe: (_document, pointer) => describeConfigPointer(pointer),
    // The cross-checks read a configuration of the right shape only, as checkJsonText runs them.
    check: (config) => withSeverity([...configFindings(config as GantryConfig, place), ...clashFindings(config as GantryConfig)]),
  });
  return { ok: result.ok, diagnostics: [...result.diagnostics], config: result.ok ? (result.value as GantryConfig) : undefined };
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


/** Principal names and aliases that name two principals ignoring case (BAD_VALUE), at the later of the two. */
function clashFindings(config: GantryConfig): Finding[] {
  return principalNameClashes(config.principals).map(({ path, message }) => ({ code: 'BAD_VALUE' as const, pointer: path.reduce<string>(joinPointer, '/principals'), message, atKey: path.length === 1 }));
}
