/**
 * Item 9 (a 32 MB node output journaled as is) and more: oversized and overdeep values from an
 * agent's reply, a connector's answer, a node's output and a run's trigger. Each is refused with
 * VALUE_TOO_LARGE (depth: any clear failure), and the refused value is not kept in the store.
 */
import { join } from 'node:path';
import { BUDGET, type HostileCase } from '../case.js';
import { hooked } from '../harness.js';
import { FIXTURES } from '../processes.js';

const agentNode = (agent: string) => hooked('Hostile reply', [{ id: 'work', type: 'agent', data: { agent, task: 'work' } }]);
const command = (script: string, ...args: string[]) => ({ transport: 'command', command: process.execPath, args: [join(FIXTURES, script), ...args], timeout_ms: 20_000 });

export const sizeCases: HostileCase[] = [
  {
    id: 'size-command-reply-32mb',
    item: '9',
    title: 'a command agent replies 32 MB (the issue\'s 32 MB output)',
    via: 'webhook',
    flow: agentNode('big'),
    config: { agents: { big: command('big-reply.mjs', String(32 * 1024 * 1024)) } },
    // Past the command transport's 10 MiB output cap, RESPONSE_TOO_LARGE (main's) is as good.
    expect: { budgetMs: BUDGET.steps, run: { status: 'failed', code: ['VALUE_TOO_LARGE', 'RESPONSE_TOO_LARGE'] }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'size-command-reply',
    item: '9',
    title: 'a command agent replies 3 MB (over the 1 MiB reply limit)',
    via: 'webhook',
    flow: agentNode('big'),
    config: { agents: { big: command('big-reply.mjs', String(3 * 1024 * 1024)) } },
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'VALUE_TOO_LARGE' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'size-http-agent-reply',
    item: '9',
    title: 'an http agent replies 3 MB (under the 10 MiB response cap, over the reply limit)',
    via: 'webhook',
    standIns: true,
    flow: agentNode('remote'),
    config: { agents: { remote: { transport: 'http', url: '%SERVICE%/big' } } },
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'VALUE_TOO_LARGE' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'size-connector-answer',
    item: '9',
    title: 'the http connector gets a 3 MB answer (over the connector answer limit)',
    via: 'webhook',
    standIns: true,
    flow: hooked('Hostile answer', [{ id: 'fetch', type: 'external_api', data: { service: 'http', action: 'get', url: '%SERVICE%/big' } }]),
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'VALUE_TOO_LARGE' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'size-node-output',
    item: '9',
    title: 'an output of three 900,000-character strings (each under the string cap, 2.7 MB together)',
    via: 'webhook',
    flow: hooked('Hostile output', [{ id: 'compute', type: 'wait', data: { seconds: 0 }, output: { value: '{% [1..3].($pad("", 900000, "x")) %}' } }]),
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed', code: 'VALUE_TOO_LARGE' }, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'size-run-input',
    item: '9',
    title: 'gantry run --input of 2 MB (over the 1 MiB trigger limit)',
    via: 'run',
    flow: hooked('Hostile input', [{ id: 'pause', type: 'wait', data: { seconds: 0 } }]),
    payload: { blob: 'i'.repeat(2 * 1024 * 1024) },
    expect: { budgetMs: BUDGET.process, exit: [1, 2], says: /VALUE_TOO_LARGE|more than its limit/, storeBelowBytes: 1_500_000 },
  },
  {
    id: 'deep-command-reply',
    item: '+',
    title: 'a command agent replies a value nested 100,000 deep (200 KB)',
    via: 'webhook',
    flow: agentNode('deep'),
    config: { agents: { deep: command('deep-reply.mjs', '100000') } },
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed' } },
  },
  {
    id: 'deep-connector-answer',
    item: '+',
    title: 'the http connector gets an answer nested 100,000 deep',
    via: 'webhook',
    standIns: true,
    flow: hooked('Deep answer', [{ id: 'fetch', type: 'external_api', data: { service: 'http', action: 'get', url: '%SERVICE%/deep' } }]),
    expect: { budgetMs: BUDGET.heavyRun, run: { status: 'failed' } },
  },
  {
    id: 'deep-run-input',
    item: '9',
    title: 'gantry run --input nested 45,000 deep (the issue\'s deep payload, through the CLI)',
    via: 'run',
    flow: hooked('Deep input', [{ id: 'pause', type: 'wait', data: { seconds: 0 } }]),
    payload: `{"deep":${'['.repeat(45_000)}${']'.repeat(45_000)}}`,
    // A clean refusal (exit 2) or a run that ends either way: never a crash or a hang.
    expect: { budgetMs: BUDGET.process, exit: [0, 1, 2] },
  },
];
