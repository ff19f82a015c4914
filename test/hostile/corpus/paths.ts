/**
 * Item 7: sub-flow references that reach outside the allowed folder — `..` escapes, absolute
 * paths, a symbolic link, a path the payload picks (/proc/self/environ holds every canary), an
 * agent's `flows` outside the configuration's folder. Each is FLOW_REF_OUTSIDE, and the content of
 * the file named shows up nowhere.
 */
import { BUDGET, type HostileCase } from '../case.js';
import { hooked } from '../harness.js';

const subflow = (flow: string) => hooked('Hostile sub-flow', [{ id: 'child', type: 'subflow', data: { flow } }]);

/**
 * An outside file a flow must not read, shaped like a flow so that a validator would quote its
 * values (an unknown node type, an unknown key): they must not come back in any error.
 */
const OUTSIDE_SECRET = {
  name: 'outside-file-value-5c1e9a',
  nodes: [{ id: 'outside-file-value-5c1e9a', type: 'outside-file-value-5c1e9a', data: { password: 'outside-file-value-5c1e9a' } }],
  db_password: 'outside-file-value-5c1e9a',
};
const outsideValue = /outside-file-value-5c1e9a/;
/** The first line of /etc/passwd on every Linux. */
const passwd = /root:x:0:0/;
/** A line of the server's own environment (/proc/self/environ). */
const environ = /HOSTILE_UNRELATED=|unrelated-variable-of-the-operator/;
const outside = /FLOW_REF_OUTSIDE/;
/** Main refuses a sub-flow path that is an expression (SUBFLOW_NOT_FOUND): the payload cannot pick it. Either refusal will do. */
const refusedPath = /FLOW_REF_OUTSIDE|SUBFLOW_NOT_FOUND/;

export const pathCases: HostileCase[] = [
  {
    id: 'path-dotdot-validate',
    item: '7',
    title: 'gantry validate: a sub-flow ../../../../../../../../etc/passwd',
    via: 'validate',
    flow: subflow('../../../../../../../../etc/passwd'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [passwd] },
  },
  {
    id: 'path-absolute-run',
    item: '7',
    title: 'gantry run: a sub-flow /etc/passwd (absolute)',
    via: 'run',
    flow: subflow('/etc/passwd'),
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [passwd] },
  },
  {
    id: 'path-outside-json-run',
    item: '7',
    title: 'gantry run: a sub-flow ../outside/secrets.json, another JSON file whose values showed up in the error',
    via: 'run',
    flow: subflow('../outside/secrets.json'),
    files: { 'outside/secrets.json': OUTSIDE_SECRET },
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [outsideValue] },
  },
  {
    id: 'path-normalised-escape',
    item: '7',
    title: 'gantry validate: sub/../../outside/secrets.json (escapes once normalised)',
    via: 'validate',
    flow: subflow('sub/../../outside/secrets.json'),
    files: { 'outside/secrets.json': OUTSIDE_SECRET, 'flows/sub/keep.txt': 'a folder' },
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [outsideValue] },
  },
  {
    id: 'path-symlink-escape',
    item: '7',
    title: 'gantry validate: a sub-flow through a symbolic link in the flows folder to a file outside it',
    via: 'validate',
    flow: subflow('./linked.json'),
    files: { 'outside/secrets.json': OUTSIDE_SECRET, 'flows/linked.json': { $symlink: '../outside/secrets.json' } },
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [outsideValue] },
  },
  {
    id: 'path-serve-start',
    item: '7',
    title: 'gantry serve refuses to start a flow whose sub-flow is ../outside/secrets.json',
    via: 'serve-start',
    flow: subflow('../outside/secrets.json'),
    files: { 'outside/secrets.json': OUTSIDE_SECRET },
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside, never: [outsideValue] },
  },
  {
    id: 'path-payload-environ',
    item: '7',
    title: 'the payload picks the sub-flow (flow is an expression): ../../../../../../../../proc/self/environ',
    via: 'webhook',
    flow: subflow('{% $trigger.flow %}'),
    payload: { flow: '../../../../../../../../proc/self/environ' },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'FLOW_REF_OUTSIDE' }, orRefusedBeforeRun: refusedPath, never: [environ] },
  },
  {
    id: 'path-payload-passwd',
    item: '7',
    title: 'the payload picks the sub-flow: /etc/passwd',
    via: 'webhook',
    flow: subflow('{% $trigger.flow %}'),
    payload: { flow: '/etc/passwd' },
    expect: { budgetMs: BUDGET.run, run: { status: 'failed', code: 'FLOW_REF_OUTSIDE' }, orRefusedBeforeRun: refusedPath, never: [passwd] },
  },
  {
    id: 'path-config-agent-flows',
    item: '7',
    title: 'gantry serve: an agent\'s flows (in the configuration) outside the configuration\'s folder',
    via: 'serve-start',
    flow: hooked('Agent flow', [{ id: 'build', type: 'agent', data: { agent: 'builder', task: 'build' } }]),
    // The configuration lives in conf/; its agent's flow is in elsewhere/, outside conf/'s tree.
    files: {
      'conf/gantry.config.json': {
        credentials: { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } },
        agents: { builder: { transport: 'flow', flows: { build: '../elsewhere/build.json' } } },
      },
      'elsewhere/build.json': { name: 'Elsewhere', nodes: [{ id: 'pause', type: 'wait', data: { seconds: 0 } }] },
    },
    args: ['--config', 'conf/gantry.config.json', '--flows', 'flows'],
    expect: { budgetMs: BUDGET.process, exit: 2, says: outside },
  },
];
