import { isAbsolute } from 'node:path';
import type { GantryConfig } from './config-types.js';
import type { Finding } from './diagnostics.js';
import { dottedPath, joinPointer } from './json-source.js';
import { resolveFlowRef } from './load.js';
import { isWebhookSecret } from './name-checks.js';
import { Vocabulary } from './suggest.js';

/** Where a configuration file is, for the checks that read the disk. */
export interface ConfigPlace {
  /** The file's folder: its agents' `flows` are relative to it. Without it they are not checked. */
  readonly folder?: string;
  /** The folder whose tree its agents' `flows` must stay in. @default `folder` */
  readonly flowsRoot?: string;
}

const pointer = (...segments: string[]) => segments.reduce<string>((p, s) => joinPointer(p, s), '');

/** `agents.reviewer.module` (a key's `/` as written), or `the configuration` for the whole file. */
export function describeConfigPointer(pointer: string): string {
  return dottedPath(pointer, 'the configuration');
}
const where = describeConfigPointer;

/**
 * What the schema cannot say about a valid configuration: each credential it names is declared
 * and never a webhook secret sent out, a command agent is passed no credential's variable by
 * `env`, an explicit `origins` covers the agents and connectors that send the credential, and
 * its agents' flows are files in its folder tree (DESIGN §11).
 */
export function configFindings(config: GantryConfig, place: ConfigPlace = {}): Finding[] {
  const findings: Finding[] = [];
  const declared = config.credentials ?? {};
  const words = new Vocabulary(() => Object.keys(declared));
  /** `https://api.github.com` for `https://api.github.com/v3/`; the schema checks the scheme only, so a URL that does not parse is a finding here. */
  const origin = (url: string, at: string): string | undefined => {
    try {
      return new URL(url).origin;
    } catch {
      findings.push({ code: 'BAD_VALUE', pointer: at, message: `${where(at)}: expected a URL such as https://api.example.com, got ${JSON.stringify(url)}` });
      return undefined;
    }
  };
  /** A credential the configuration sends somewhere (`to`: the origin it is sent to, when known). */
  const sent = (name: string, at: string, to: string | undefined) => {
    if (!Object.hasOwn(declared, name)) {
      findings.push({ code: 'CREDENTIAL_UNDECLARED', pointer: at, message: `${where(at)}: the credential "${name}" is not declared${words.didYouMean(name)}; declare it under \`credentials\` with the variable that holds it` });
      return;
    }
    if (isWebhookSecret(name)) {
      findings.push({ code: 'CREDENTIAL_UNDECLARED', pointer: at, message: `${where(at)}: "${name}" is a webhook's signing secret, which checks what comes in and is never sent out; name another credential` });
      return;
    }
    const origins = declared[name]!.origins;
    if (to !== undefined && origins !== undefined && !origins.some((o) => sameOrigin(o, to))) {
      const at2 = pointer('credentials', name, 'origins');
      findings.push({ code: 'BAD_VALUE', pointer: at2, message: `${where(at2)}: the credential "${name}" is sent to ${to} (${where(at)}), which its origins leave out; add "${to}" or name another credential there` });
    }
  };

  for (const [agentName, agent] of Object.entries(config.agents ?? {})) {
    if (agent.authentication !== undefined) {
      const url = agent.transport === 'http' ? agent.url : agent.transport === 'llm' ? agent.base_url : undefined;
      const key = agent.transport === 'llm' ? 'base_url' : 'url';
      sent(agent.authentication, pointer('agents', agentName, 'authentication'), url === undefined ? undefined : origin(url, pointer('agents', agentName, key)));
    }
    (agent.env ?? []).forEach((variable, i) => {
      const holder = Object.entries(declared).find(([, d]) => d.env === variable)?.[0];
      if (holder === undefined) return;
      const at = pointer('agents', agentName, 'env', String(i));
      findings.push({ code: 'BAD_VALUE', pointer: at, message: `${where(at)}: ${variable} holds the credential "${holder}"; a program gets a credential through \`authentication\`, not \`env\`` });
    });
    for (const [task, file] of Object.entries(agent.flows ?? {})) flowFinding(agentName, task, file, place, findings);
  }
  for (const [service, connector] of Object.entries(config.connectors ?? {})) {
    if (connector.credential !== undefined) {
      sent(connector.credential, pointer('connectors', service, 'credential'), connector.base_url === undefined ? undefined : origin(connector.base_url, pointer('connectors', service, 'base_url')));
    }
  }
  if (config.notifications?.authentication !== undefined) sent(config.notifications.authentication, pointer('notifications', 'authentication'), undefined);
  return findings;
}

function flowFinding(agent: string, task: string, file: string, place: ConfigPlace, findings: Finding[]): void {
  if (place.folder === undefined) return;
  const at = pointer('agents', agent, 'flows', task);
  const ref = resolveFlowRef(place.flowsRoot ?? place.folder, place.folder, file);
  if (ref.status === 'outside') {
    findings.push({
      code: 'FLOW_REF_OUTSIDE',
      pointer: at,
      message: `${where(at)}: "${file}" is ${isAbsolute(file) ? 'an absolute path' : "outside the configuration's folder tree"}; an agent's flows must be relative paths to files in the configuration's folder tree, symbolic links included`,
    });
  }
  // A missing file is found when a task needs it: the commands that only read the store still work.
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
