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
}

/** What the out-of-process transports need from the configuration around them. */
export interface AgentContext {
  /** A credential's value by name (the configuration's `credentials`, else the upper-case variable). */
  readonly credential: (name: string) => string | undefined;
  /** The configuration's outbound policy, for the http and llm transports. */
  readonly outbound?: OutboundOptions;
  /** The environment a command agent's own is made from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The configuration: which environment variables hold credentials, withheld from command agents. */
  readonly config?: GantryConfig;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** The configuration's agents as the engine registers them: a transport each, and the tasks flows perform. */
export async function agentsFromConfig(
  specs: Record<string, AgentConfig>,
  base: string,
  factories: TransportFactories,
  context: AgentContext = { credential: (name) => process.env[credentialVariable(undefined, name)] },
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
          ...(spec.role === undefined ? {} : { role: spec.role }),
          ...(spec.authentication === undefined ? {} : { authentication: spec.authentication }),
        }),
      );
    }
    case 'command': {
      const make = available(name, spec, factories.commandAgent);
      const command = /[\\/]/.test(spec.command!) ? resolve(base, spec.command!) : spec.command!;
      const { env, secrets } = commandEnvironment(spec, context);
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
 * A command agent's environment: this process's, without any variable that holds a credential
 * the configuration knows of (its `credentials`, and the default variables of the credentials it
 * names or the shipped flows name) or a webhook secret (`*WEBHOOK_SECRET`), except the one the
 * agent's own `authentication` names, when it is set.
 */
export function commandEnvironment(spec: AgentConfig, context: AgentContext): { env: Record<string, string | undefined>; secrets: string[] } {
  const env: Record<string, string | undefined> = { ...(context.env ?? process.env) };
  for (const variable of credentialVariables(context.config ?? {})) delete env[variable];
  // Webhook secrets are named in flows, not in the configuration: whatever their name, they end so (isSignatureScheme).
  for (const variable of Object.keys(env)) if (/WEBHOOK_SECRET$/i.test(variable)) delete env[variable];
  const secrets: string[] = [];
  // Unset, it is simply not there: the program says what it misses, and only when it runs.
  const value = spec.authentication === undefined ? undefined : context.credential(spec.authentication);
  if (spec.authentication !== undefined && value !== undefined && value.trim() !== '') {
    env[credentialVariable(context.config ?? {}, spec.authentication)] = value;
    secrets.push(value, value.trim());
  }
  return { env, secrets };
}

/** Every environment variable the configuration reads a credential from, named or by default. */
export function credentialVariables(config: GantryConfig): Set<string> {
  // The connectors' default credentials, and those the shipped flows name (github_app, github_webhook_secret).
  const names = new Set<string>(['github_token', 'github_app', 'github_webhook_secret', 'slack_token', 'prometheus_token', ...Object.keys(config.credentials ?? {})]);
  for (const agent of Object.values(config.agents ?? {})) if (agent.authentication !== undefined) names.add(agent.authentication);
  for (const connector of Object.values(config.connectors ?? {})) if (connector.credential !== undefined) names.add(connector.credential);
  if (config.notifications?.authentication !== undefined) names.add(config.notifications.authentication);
  return new Set([...names].map((name) => credentialVariable(config, name)));
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
