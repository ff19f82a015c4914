import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import {
  createEngine,
  DEFAULT_LIMITS,
  GantryError,
  parseConfigText,
  type Clock,
  type Connector,
  type Engine,
  type FlowFunction,
  type EngineLimitsOptions,
  type GantryConfig,
  type JsonObject,
  type LogOptions,
  type Notifier,
  type RunStore,
} from '@gantry/engine';
import { agentsFromConfig, outboundFromConfig } from './agents.js';
import { configPlace, defaultConfigPath, flowNames } from './config-place.js';
import { credentialOrigins, credentialResolver } from './credentials.js';
import { importExport } from './import-module.js';
import type { builtinConnectors as BuiltinConnectors, OutboundOptions } from '@gantry/executors';

export interface LoadedConfig {
  readonly config: GantryConfig;
  /** The file it came from, or undefined when no file was found (the defaults). */
  readonly path: string | undefined;
  /** The local agent pack's default configuration, used because the folder has no gantry.config.json. */
  readonly isDefault?: boolean;
}

/**
 * `--config f`, else ./gantry.config.json when it exists, else the local agent pack's default
 * configuration (DESIGN §6: with no config file the shipped flows run with the local pack).
 */
export function loadConfig(explicit: string | undefined, cwd: string): LoadedConfig {
  const path = explicit === undefined ? resolve(cwd, 'gantry.config.json') : resolve(cwd, explicit);
  if (explicit === undefined && !existsSync(path)) return loadDefaultConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new GantryError('CONFIG_INVALID', `cannot read the configuration ${explicit ?? path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`, { cause });
  }
  return { config: parseConfigText(text, explicit ?? 'gantry.config.json', configPlace(path)), path };
}

export interface EngineSetup {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly store?: RunStore;
  /** Where notifications go when the configuration names no service. */
  readonly fallbackNotifier: Notifier;
  readonly env: NodeJS.ProcessEnv;
  /** Triggers this large are accepted whatever `limits.trigger_bytes` says (gantry serve: its webhook body limit). */
  readonly triggerBytesAtLeast?: number;
  /** The folder whose tree the sub-flow references of the flows in it may reach (serve's --flows). @default each flow's folder */
  readonly flowsFolder?: string;
}

/** The configuration's `limits` as the engine's option (sizes in bytes of JSON). */
export function limitsFromConfig(limits: GantryConfig['limits'], triggerBytesAtLeast = 0): EngineLimitsOptions {
  const e = limits?.expression ?? {};
  const expression = {
    ...(e.max_string ? { maxString: e.max_string } : {}),
    ...(e.max_array ? { maxArray: e.max_array } : {}),
    ...(e.max_depth ? { maxDepth: e.max_depth } : {}),
    ...(e.max_steps ? { maxSteps: e.max_steps } : {}),
    ...(e.max_built ? { maxBuilt: e.max_built } : {}),
    ...(e.max_value ? { maxValue: e.max_value } : {}),
    ...(e.timeout_ms ? { timeoutMs: e.timeout_ms } : {}),
  };
  const trigger = Math.max(limits?.trigger_bytes ?? DEFAULT_LIMITS.triggerBytes, triggerBytesAtLeast);
  return {
    ...(limits?.node_output_bytes ? { nodeOutputBytes: limits.node_output_bytes } : {}),
    ...(limits?.agent_reply_bytes ? { agentReplyBytes: limits.agent_reply_bytes } : {}),
    ...(limits?.connector_answer_bytes ? { connectorAnswerBytes: limits.connector_answer_bytes } : {}),
    ...(trigger !== DEFAULT_LIMITS.triggerBytes ? { triggerBytes: trigger } : {}),
    ...(Object.keys(expression).length > 0 ? { expression } : {}),
  };
}

/** The engine a configuration describes: built-in executors, functions and connectors, plus its agents. */
export async function engineFromConfig(loaded: LoadedConfig, setup: EngineSetup): Promise<Engine> {
  // Loaded on first use, so that the commands that run nothing start fast.
  const executors = await import('@gantry/executors');
  const { builtinConnectors, builtinExecutors, builtinFunctions, moduleAgent, httpAgent, commandAgent, llmAgent, withCircuitBreaker, minimalEnvironment } = executors;
  const { config } = loaded;
  const base = loaded.path === undefined ? process.cwd() : dirname(loaded.path);
  const credentials = credentialResolver(config, setup.env);
  const origins = credentialOrigins(config, executors.SERVICE_DEFAULTS);
  const outbound = outboundFromConfig(config.outbound);
  const agents = await agentsFromConfig(config.agents ?? {}, base, { moduleAgent, httpAgent, commandAgent, llmAgent, withCircuitBreaker, minimalEnvironment }, {
    credential: credentials,
    credentialOrigins: origins,
    outbound,
    env: setup.env,
    config,
    ...(setup.clock ? { clock: setup.clock } : {}),
    ...(setup.logger ? { log: setup.logger } : {}),
  });
  const functions: Record<string, FlowFunction> = { ...builtinFunctions };
  for (const [name, spec] of Object.entries(config.functions ?? {})) {
    const file = resolve(base, spec.module);
    const module = (await importExport(file, undefined, `function "${name}"`)) as Record<string, unknown>;
    const fn = spec.export ? module[spec.export] : (module[name] ?? module.default ?? module);
    if (typeof fn !== 'function') throw new GantryError('CONFIG_INVALID', `function "${name}": ${file} exports no function "${spec.export ?? name}"`);
    functions[name] = fn as FlowFunction;
  }
  const connectors: Connector[] = await withPackConnectors(loaded, connectorsFromConfig(config, outbound, builtinConnectors));
  const notifications = config.notifications;
  let engine: Engine | undefined;
  const notifier: Notifier = notifications
    ? async (n) => {
        const connector = connectors.find((c) => c.service === notifications.service);
        if (connector === undefined) throw new GantryError('CONNECTOR_NOT_FOUND', `notifications: no connector for service "${notifications.service}"`);
        const params: JsonObject = { ...(notifications.params as JsonObject | undefined), text: n.message, severity: n.severity };
        const controller = new AbortController();
        await connector.call(notifications.action, params, {
          signal: controller.signal,
          idempotencyKey: `${n.runId}:notify:${n.nodeId ?? 'run'}`,
          // Which run the notification is about (a sub-flow's handlers notify for their own run).
          run: { id: n.runId, flow: n.flow, node: n.nodeId ?? 'run' },
          log: engine!.options.logger,
          credential: credentials,
          credentialOrigins: origins,
          ...(notifications.authentication ? { authentication: notifications.authentication } : {}),
        });
      }
    : setup.fallbackNotifier;
  engine = createEngine({
    executors: builtinExecutors,
    functions,
    agents,
    connectors,
    credentials,
    credentialOrigins: origins,
    declared: flowNames(config, Object.keys(functions), connectors),
    ...(setup.flowsFolder === undefined ? {} : { flowsFolder: setup.flowsFolder }),
    notifier,
    limits: limitsFromConfig(config.limits, setup.triggerBytesAtLeast),
    ...(config.principals ? { principals: config.principals } : {}),
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    ...(config.crash_loop ? { crashLoop: crashLoopOptions(config.crash_loop) } : {}),
    ...(config.logs === undefined ? {} : { logs: logOptions(config.logs) }),
    ...(setup.clock ? { clock: setup.clock } : {}),
    ...(setup.logger ? { logger: setup.logger } : {}),
    ...(setup.store ? { store: setup.store } : {}),
  });
  return engine;
}

/** The configuration's crash_loop as the engine's crashLoop option. */
function crashLoopOptions(spec: NonNullable<GantryConfig['crash_loop']>): { limit?: number; survivalMs?: number } {
  return { ...(spec.limit === undefined ? {} : { limit: spec.limit }), ...(spec.survival_ms === undefined ? {} : { survivalMs: spec.survival_ms }) };
}

/** The configuration's logs as the engine's logs option. */
function logOptions(spec: NonNullable<GantryConfig['logs']>): LogOptions | false {
  if (typeof spec === 'boolean') return spec ? {} : false;
  const options: LogOptions = {};
  if (spec.level !== undefined) options.level = spec.level;
  if (spec.max_lines_per_attempt !== undefined) options.maxLinesPerAttempt = spec.max_lines_per_attempt;
  if (spec.max_bytes_per_attempt !== undefined) options.maxBytesPerAttempt = spec.max_bytes_per_attempt;
  if (spec.max_bytes_per_run !== undefined) options.maxBytesPerRun = spec.max_bytes_per_run;
  if (spec.max_line_length !== undefined) options.maxLineLength = spec.max_line_length;
  return options;
}

/** A configured connector's options: its base URL, timeout and default credential. */
function connectorOptions(config: GantryConfig, service: string): { baseUrl?: string; timeoutMs?: number; credential?: string } {
  const spec = config.connectors?.[service];
  return {
    ...(spec?.base_url ? { baseUrl: spec.base_url } : {}),
    ...(spec?.timeout_ms ? { timeoutMs: spec.timeout_ms } : {}),
    ...(spec?.credential ? { credential: spec.credential } : {}),
  };
}

/** The built-in connectors under the configuration's outbound policy; options the executors refuse are the configuration's fault. */
function connectorsFromConfig(config: GantryConfig, outbound: OutboundOptions, make: typeof BuiltinConnectors): Connector[] {
  try {
    // The http connector's URLs come from flows: it has no base URL or default credential.
    const { timeoutMs } = connectorOptions(config, 'http');
    return make({
      outbound,
      http: timeoutMs === undefined ? {} : { timeoutMs },
      github: connectorOptions(config, 'github'),
      slack: connectorOptions(config, 'slack'),
      prometheus: connectorOptions(config, 'prometheus'),
    });
  } catch (error) {
    if (error instanceof GantryError && error.code === 'USAGE') throw new GantryError('CONFIG_INVALID', `the configuration's connectors or outbound policy: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The default configuration's file: gantry.config.json of @gantry/agents-local. */
function loadDefaultConfig(): LoadedConfig {
  const path = defaultConfigPath();
  return { config: parseConfigText(readFileSync(path, 'utf8'), path, configPlace(path)), path, isDefault: true };
}

/** With the default configuration, Slack messages go to .gantry/notifications.log when no Slack credential is set. */
async function withPackConnectors(loaded: LoadedConfig, connectors: Connector[]): Promise<Connector[]> {
  if (!loaded.isDefault) return connectors;
  const { withLocalNotifications } = await import('@gantry/agents-local');
  return withLocalNotifications(connectors);
}
