import type { Logger } from 'pino';
import type { AgentTask, Clock } from '@gantry/engine';
import type { CallEnv } from '../connectors/http-call.js';
import type { Outbound } from '../connectors/outbound.js';
import { assertHeaderSafe, requireCredential, type Credential } from '../connectors/secrets.js';
import { DEADLINE_GRACE_MS, taskTime, type TaskTime } from './reply.js';

/** How an agent reached over HTTP (the http and llm transports) calls out, set once per agent. */
export interface AgentCallSetup {
  readonly outbound: Outbound;
  readonly taskTimeoutMs: number | undefined;
  readonly authentication: string | undefined;
  readonly resolveCredential: (name: string) => string | undefined;
  readonly log: Logger;
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
  const credential = setup.authentication === undefined ? undefined : requireCredential(site, { credential: setup.resolveCredential }, setup.authentication);
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
      code: 'AGENT_FAILED',
      // A moment past the deadline, so that the deadline's own abort tells what happened;
      // without a deadline, the policy's timeout.
      ...(time.deadline === undefined ? {} : { timeoutMs: Math.max(1, time.deadline - clock.now()) + DEADLINE_GRACE_MS }),
    }),
  };
}
