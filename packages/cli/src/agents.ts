import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { credentialVariable, GantryError, type AgentConfig, type AgentRegistration, type AgentTransport, type Clock, type GantryConfig } from '@gantry/engine';
import type { CircuitBreakerOptions, CommandAgentOptions, HttpAgentOptions, LlmAgentOptions, ModuleAgent, OutboundOptions } from '@gantry/executors';
import { importExport } from './import-module.js';

/** The transports' factories, passed in so that @gantry/executors is loaded only when needed. */
export interface TransportFactories {
  moduleAgent(impl: ModuleAgent, name: string): AgentTransport;
  httpAgent?(options: HttpAgentOptions): AgentTransport;
  commandAgent?(options: CommandAgentOptions): AgentTransport;
  llmAgent?(options: LlmAgentOptions): AgentTransport;
  withCircuitBreaker?(transport: AgentTransport, options: CircuitBreakerOptions): AgentTransport;
  /** The variables of an environment that every command agent gets. */
  minimalEnvironment?(env: NodeJS.ProcessEnv): Record<string, string>;
}

/** What the out-of-process transports need from the configuration around them. */
export interface AgentContext {
  /** A declared credential's value by name (the variable its declaration names). */
  readonly credential: (name: string) => string | undefined;
  /** The origins a declared credential may be sent to. @default an http or llm agent's own origin */
  readonly credentialOrigins?: (name: string) => readonly string[];
  /** The configuration's outbound policy, for the http and llm transports. */
  readonly outbound?: OutboundOptions;
  /** The environment a command agent's own is made from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The configuration: which variables hold credentials (a command agent gets its own only). */
  readonly config?: GantryConfig;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** The configuration's agents as the engine registers them: a transport each, and the tasks flows perform. */
export async function agentsFromConfig(
  specs: Record<string, AgentConfig>,
  base: string,
  factories: TransportFactories,
  context: AgentContext = { credential: () => undefined },
): Promise<Record<string, AgentRegistration>> {
  const agents: Record<string, AgentRegistration> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const flows = spec.flows === undefined ? undefined : Object.fromEntries(Object.entries(spec.flows).map(([task, file]) => [task, resolve(base, file)]));
    const transport = spec.transport === 'flow' ? undefined : await transportFor(name, spec, base, factories, context);
    agents[name] = {
      ...(transport === undefined ? {} : { transport }),
      ...(flows === undefined ? {} : { flows }),
      ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
      ...(spec.compensations === undefined ? {} : { compensations: spec.compensations }),
    };
  }
  return agents;
}

async function transportFor(name: string, spec: AgentConfig, base: string, factories: TransportFactories, context: AgentContext): Promise<AgentTransport> {
  const transport = await bareTransport(name, spec, base, factories, context);
  // Out of process, an agent can be down: those get a circuit breaker unless told otherwise; a module only when asked.
  const breaker = spec.circuit_breaker ?? (spec.transport === 'module' ? undefined : {});
  if (breaker === undefined) return transport;
  const wrap = available(name, spec, factories.withCircuitBreaker);
  return wrap(transport, {
    ...(breaker.failures === undefined ? {} : { failures: breaker.failures }),
    ...(breaker.reset_ms === undefined ? {} : { resetMs: breaker.reset_ms }),
    ...(context.clock === undefined ? {} : { clock: context.clock }),
  });
}

async function bareTransport(name: string, spec: AgentConfig, base: string, factories: TransportFactories, context: AgentContext): Promise<AgentTransport> {
  const log = context.log?.child({ agent: name });
  const common = {
    ...(spec.timeout_ms === undefined ? {} : { taskTimeoutMs: spec.timeout_ms }),
    ...(log === undefined ? {} : { log }),
  };
  // The library's messages name its option; the configuration's user knows the agent and the key.
  const configured = <T>(make: () => T): T => {
    try {
      return make();
    } catch (error) {
      if (error instanceof GantryError && error.code === 'USAGE') throw new GantryError('CONFIG_INVALID', `agent "${name}": ${error.message}`, { cause: error });
      throw error;
    }
  };
  switch (spec.transport) {
    case 'module': {
      const impl = await importExport(resolve(base, spec.module!), spec.export, `agent "${name}"`);
      if (typeof impl !== 'function' && (typeof impl !== 'object' || impl === null)) {
        throw new GantryError('CONFIG_INVALID', `agent "${name}": the module's export must be a function or an object of task → function, got ${typeof impl}`);
      }
      return factories.moduleAgent(impl as ModuleAgent, 'agent');
    }
    case 'http': {
      const make = available(name, spec, factories.httpAgent);
      return configured(() =>
        make({
          ...context.outbound,
          ...common,
          url: spec.url!,
          credential: context.credential,
          ...(context.credentialOrigins === undefined ? {} : { credentialOrigins: context.credentialOrigins }),
          ...(spec.authentication === undefined ? {} : { authentication: spec.authentication }),
          ...(spec.poll_interval_ms === undefined ? {} : { pollIntervalMs: spec.poll_interval_ms }),
        }),
      );
    }
    case 'llm': {
      const make = available(name, spec, factories.llmAgent);
      return configured(() =>
        make({
          ...context.outbound,
          ...common,
          baseUrl: spec.base_url!,
          model: spec.model!,
          credential: context.credential,
          ...(context.credentialOrigins === undefined ? {} : { credentialOrigins: context.credentialOrigins }),
          ...(spec.role === undefined ? {} : { role: spec.role }),
          ...(spec.authentication === undefined ? {} : { authentication: spec.authentication }),
        }),
      );
    }
    case 'command': {
      const make = available(name, spec, factories.commandAgent);
      const command = /[\\/]/.test(spec.command!) ? resolve(base, spec.command!) : spec.command!;
      const { env, secrets } = commandEnvironment(spec, context, factories.minimalEnvironment);
      return configured(() => make({ ...common, command, args: spec.args ?? [], cwd: base, env, secrets }));
    }
    default:
      throw new GantryError('CONFIG_INVALID', `agent "${name}": the ${spec.transport} transport is not available in this build`);
  }
}

function available<F>(name: string, spec: AgentConfig, factory: F | undefined): F {
  if (factory === undefined) throw new GantryError('CONFIG_INVALID', `agent "${name}": the ${spec.transport} transport is not available in this build`);
  return factory;
}

/**
 * A command agent's environment (DESIGN §11): the minimal one (PATH, HOME, the locale, TMPDIR
 * and the like), the variables its `env` passes on, and the credential its `authentication`
 * names, in that credential's variable. Never Gantry's whole environment, and never another
 * credential's variable, even one the minimal set would take.
 */
export function commandEnvironment(
  spec: AgentConfig,
  context: AgentContext,
  minimal: (env: NodeJS.ProcessEnv) => Record<string, string> = () => ({}),
): { env: Record<string, string>; secrets: string[] } {
  const from = context.env ?? process.env;
  const config = context.config ?? {};
  const env = minimal(from);
  for (const variable of spec.env ?? []) {
    const value = from[variable];
    if (value !== undefined) env[variable] = value;
  }
  for (const declared of Object.values(config.credentials ?? {})) delete env[declared.env];
  const secrets: string[] = [];
  // Unset, it is simply not there: the program says what it misses, and only when it runs.
  const variable = spec.authentication === undefined ? undefined : credentialVariable(config, spec.authentication);
  const value = spec.authentication === undefined ? undefined : context.credential(spec.authentication);
  if (variable !== undefined && value !== undefined && value.trim() !== '') {
    env[variable] = value;
    secrets.push(value, value.trim());
  }
  return { env, secrets };
}

/** The configuration's `outbound` as the executors' options. */
export function outboundFromConfig(outbound: GantryConfig['outbound']): OutboundOptions {
  if (outbound === undefined) return {};
  const pairs: [keyof OutboundOptions, unknown][] = [
    ['timeoutMs', outbound.timeout_ms],
    ['connectTimeoutMs', outbound.connect_timeout_ms],
    ['maxResponseBytes', outbound.max_response_bytes],
    ['maxAttempts', outbound.max_attempts],
    ['retryBaseMs', outbound.retry_base_ms],
    ['retryMaxMs', outbound.retry_max_ms],
    ['maxRetryAfterMs', outbound.max_retry_after_ms],
    ['maxRedirects', outbound.max_redirects],
    ['allowPrivateNetworks', outbound.allow_private_networks],
    ['allow', outbound.allow],
  ];
  return Object.fromEntries(pairs.filter(([, value]) => value !== undefined)) as OutboundOptions;
}
