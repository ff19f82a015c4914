import { describe, expect, it } from 'vitest';
import { declaredNames } from './config.js';
import { validateFlowDocument } from './validate.js';

const declared = declaredNames(
  {
    agents: {
      reviewer: { transport: 'module', module: './r.mjs' },
      releaser: { transport: 'flow', flows: { promote: 'promote.json', rollback: 'rollback.json' } },
    },
    functions: { score: { module: './score.mjs' } },
    credentials: { github_app: { env: 'GITHUB_APP' }, github_webhook_secret: { env: 'HOOK_SECRET' }, deploy_token: { env: 'DEPLOY_TOKEN' } },
  },
  { functions: ['analyze_changed_files'], services: ['http', 'github', 'slack'] },
);

const NAME_CODES = new Set(['UNKNOWN_AGENT', 'UNKNOWN_TASK', 'UNKNOWN_FUNCTION', 'UNKNOWN_SERVICE', 'CREDENTIAL_UNDECLARED']);

/** The name diagnostics of a flow of these nodes (unconnected: the graph's own findings are left out). */
const codes = (nodes: object[]) =>
  validateFlowDocument({ name: 'f', nodes }, { declared })
    .diagnostics.filter((d) => NAME_CODES.has(d.code))
    .map((d) => `${d.code} ${d.pointer}`);

describe('names checked against the configuration', () => {
  it('accepts what the configuration declares, and names given by expressions', () => {
    expect(
      codes([
        { id: 'hook', type: 'webhook', data: { authentication: 'github_webhook_secret' } },
        { id: 'a', type: 'agent', data: { agent: 'reviewer', task: 'anything' } },
        { id: 'b', type: 'agent', data: { agent: 'releaser', task: 'promote' }, compensate: { agent: 'releaser', task: 'rollback' } },
        { id: 'f', type: 'function', data: { function: 'score' } },
        { id: 'g', type: 'function', data: { function: 'analyze_changed_files' } },
        { id: 'x', type: 'external_api', data: { service: 'github', action: 'create_comment', authentication: 'github_app' } },
        { id: 'y', type: 'external_api', data: { service: '{% $params.s %}', action: 'get', authentication: '{% $trigger.credential %}' } },
        { id: 'z', type: 'agent', data: { agent: '{% $trigger.agent %}', task: 'x' } },
      ]),
    ).toEqual([]);
  });

  it('reports every other name where it is written: nodes, parallel agents, router agents and compensations', () => {
    expect(
      codes([
        { id: 'hook', type: 'webhook', data: { authentication: 'ops_secret' } },
        { id: 'p', type: 'parallel', data: { agents: [{ agent: 'reviewer', task: 't' }, { agent: 'ghost', task: 't' }, { agent: 'releaser', task: 'promot' }] } },
        { id: 'r', type: 'conditional', data: { conditions: [{ if: 'x', then: 'deploy', agents: ['releaser', 'phantom'] }] } },
        { id: 'c', type: 'function', data: { function: 'scor' }, compensate: { type: 'external_api', data: { service: 'pagerduty', action: 'page', authentication: 'ops_api_token' } } },
        { id: 'd', type: 'wait', data: { seconds: 1 }, compensate: { agent: 'releaser', task: 'undo' } },
      ]),
    ).toEqual([
      'CREDENTIAL_UNDECLARED /nodes/0/data/authentication',
      'UNKNOWN_AGENT /nodes/1/data/agents/1/agent',
      'UNKNOWN_TASK /nodes/1/data/agents/2/task',
      'UNKNOWN_TASK /nodes/2/data/conditions/0/then',
      'UNKNOWN_AGENT /nodes/2/data/conditions/0/agents/1',
      'UNKNOWN_FUNCTION /nodes/3/data/function',
      'UNKNOWN_SERVICE /nodes/3/compensate/data/service',
      'CREDENTIAL_UNDECLARED /nodes/3/compensate/data/authentication',
      'UNKNOWN_TASK /nodes/4/compensate/task',
    ]);
  });

  it('refuses a webhook secret where a credential is sent out, and allows it on a webhook', () => {
    const result = validateFlowDocument(
      { name: 'f', nodes: [{ id: 'x', type: 'external_api', data: { service: 'http', action: 'post', url: 'https://example.com', authentication: 'github_webhook_secret' } }] },
      { declared },
    );
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ code: 'CREDENTIAL_UNDECLARED', pointer: '/nodes/0/data/authentication' });
    expect(result.diagnostics[0]!.message).toContain('"github_webhook_secret" is a webhook\'s signing secret');
  });

  it('suggests the near name and checks nothing without a configuration', () => {
    const nodes = [{ id: 'x', type: 'external_api', data: { service: 'gihtub', action: 'a', authentication: 'github_ap' } }];
    const messages = validateFlowDocument({ name: 'f', nodes }, { declared }).diagnostics.map((d) => d.message);
    expect(messages).toEqual([expect.stringContaining('did you mean "github"?'), expect.stringContaining('did you mean "github_app"?')]);
    expect(validateFlowDocument({ name: 'f', nodes }).diagnostics).toEqual([]);
  });
});
