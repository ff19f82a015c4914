import type { Logger } from 'pino';
import { GantryError, type AgentTask, type Clock } from '@gantry/engine';
import { describeValue } from '../connectors/params.js';
import type { CallEnv } from '../connectors/http-call.js';
import type { Outbound } from '../connectors/outbound.js';
import { assertHeaderSafe, requireCredential, type Credential } from '../connectors/secrets.js';
import { DEADLINE_GRACE_MS, stringOption, taskTime, type TaskTime } from './reply.js';

/** The credential options of the http and llm transports. */
export interface AgentCredentialOptions {
  /** A credential name: its value is sent as `Authorization: Bearer …` to the agent's own origin. */
  readonly authentication?: string;
  /** Resolves a credential name to its value; required with `authentication` (no environment variable is read by default). */
  readonly credential?: (name: string) => string | undefined;
  /** The origins a credential may be sent to, as declared. @default the agent's own origin only */
  readonly credentialOrigins?: (name: string) => readonly string[] | undefined;
}

/** How an agent reached over HTTP (the http and llm transports) calls out, set once per agent. */
export interface AgentCallSetup {
  readonly outbound: Outbound;
  readonly taskTimeoutMs: number | undefined;
  readonly authentication: string | undefined;
  readonly resolveCredential: (name: string) => string | undefined;
  readonly credentialOrigins: ((name: string) => readonly string[] | undefined) | undefined;
  readonly log: Logger;
}

/** The credential options, validated once (STYLE §7). */
export function credentialSetup(factory: string, options: AgentCredentialOptions): Pick<AgentCallSetup, 'authentication' | 'resolveCredential' | 'credentialOrigins'> {
  const authentication = stringOption(factory, 'authentication', options.authentication);
  for (const key of ['credential', 'credentialOrigins'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new GantryError('USAGE', `${factory}: expected \`${key}\` to be a function of a credential's name, got ${describeValue(options[key])}`);
    }
  }
  if (authentication !== undefined && options.credential === undefined) {
    throw new GantryError('USAGE', `${factory}: expected \`credential\` (a function from a credential's name to its value) with \`authentication\`, got nothing`);
  }
  return { authentication, resolveCredential: options.credential ?? (() => undefined), credentialOrigins: options.credentialOrigins };
}

/** One task's call: its time, its credential, its log, and the environment of each request it sends. */
export interface AgentCall {
  readonly time: TaskTime;
  readonly credential: Credential | undefined;
  readonly secrets: readonly string[];
  readonly log: Logger;
  /** The task as sent: with the deadline the call keeps, when it has one. */
  readonly envelope: AgentTask;
  /** The clock the call runs on (the engine's). */
  readonly clock: Clock;
  /** A request may take as long as the task has left (read anew for each request of a poll). */
  env(): CallEnv;
}

export function startAgentCall(task: AgentTask, callerSignal: AbortSignal, setup: AgentCallSetup, clock: Clock): AgentCall {
  const site = { service: `agent "${task.agent}"`, action: `task "${task.task}"` };
  const credential =
    setup.authentication === undefined
      ? undefined
      : requireCredential(site, { credential: setup.resolveCredential, ...(setup.credentialOrigins === undefined ? {} : { credentialOrigins: setup.credentialOrigins }) }, setup.authentication);
  if (credential !== undefined) assertHeaderSafe(site, credential);
  const secrets = credential?.secrets ?? [];
  // After the credential checks, which throw: a timer armed before them would be left behind.
  const time = taskTime(task, callerSignal, setup.taskTimeoutMs, clock);
  const log = setup.log.child({ agent: task.agent, task: task.task, runId: task.run.id, nodeId: task.node, attempt: task.attempt });
  return {
    time,
    clock,
    credential,
    secrets,
    log,
    envelope: time.deadline === undefined ? task : { ...task, deadline: new Date(time.deadline).toISOString() },
    env: () => ({
      site,
      outbound: setup.outbound,
      ctx: { signal: time.signal, log, clock },
      secrets,
      ...(credential === undefined ? {} : { credential }),
      code: 'AGENT_FAILED',
      // A moment past the deadline, so that the deadline's own abort tells what happened;
      // without a deadline, the policy's timeout.
      ...(time.deadline === undefined ? {} : { timeoutMs: Math.max(1, time.deadline - clock.now()) + DEADLINE_GRACE_MS }),
    }),
  };
}
