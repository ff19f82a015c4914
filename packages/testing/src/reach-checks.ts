import { didYouMean } from '@gantry/engine';
import type { TestDiagnosticCode } from './codes.js';
import { pointer } from './pointers.js';
import type { Reach } from './reach.js';
import { callPatterns, expectationBlocks, scopes, type TestFinding } from './shape-checks.js';
import type { CallPattern, TestFile } from './test-file.js';

/**
 * Scripts and expectations checked against what the flows can do: every name a test writes is
 * one the flows use, or the test is told, with the name it probably meant.
 */
export function reachFindings(file: TestFile, reach: Reach): TestFinding[] {
  const findings: TestFinding[] = [];
  const error = (code: TestDiagnosticCode, at: string, message: string, atKey = false): void =>
    void findings.push({ code, severity: 'error', pointer: at, message, ...(atKey ? { atKey } : {}) });
  const topNodes = [...reach.top.nodes.keys()];
  const allNodes = [...reach.nodes.keys()];
  const node = (at: string, id: string, within: readonly string[], where: string, atKey = false) => {
    if (!within.includes(id)) error('UNKNOWN_NODE', at, `no node "${id}" in ${where}${didYouMean(id, within)}`, atKey);
  };
  const topWhere = `flow "${reach.top.name}"`;
  const anyWhere = `flow "${reach.top.name}" or a flow it reaches`;

  const agent = (at: string, name: string, atKey: boolean): boolean => {
    if (reach.dynamic || reach.agents.has(name)) return true;
    error('UNCALLED_AGENT', at, `no flow of this test calls agent "${name}"${didYouMean(name, reach.agents.keys())}`, atKey);
    return false;
  };
  const task = (at: string, name: string, agentName: string, atKey: boolean) => {
    const tasks = reach.agents.get(agentName);
    if (reach.dynamic || tasks === undefined || tasks.has(name)) return;
    error('UNCALLED_TASK', at, `the flows never ask agent "${agentName}" for task "${name}"${didYouMean(name, tasks)} (they ask for ${[...tasks].join(', ')})`, atKey);
  };
  const service = (at: string, name: string, action: string | undefined, atKeys: boolean) => {
    if (reach.dynamic) return;
    const actions = reach.services.get(name);
    if (actions === undefined) {
      error('UNCALLED_SERVICE', at, `no external_api node of the flows calls service "${name}"${didYouMean(name, reach.services.keys())}`, atKeys);
    } else if (action !== undefined && !actions.has(action)) {
      error('UNCALLED_SERVICE', atKeys ? `${at}${pointer(action)}` : at, `no external_api node of the flows calls action "${action}" of service "${name}"${didYouMean(action, actions)} (they call ${[...actions].join(', ')})`, atKeys);
    }
  };
  const fn = (at: string, name: string, atKey: boolean) => {
    if (reach.dynamic || reach.functions.has(name)) return;
    error('UNCALLED_FUNCTION', at, `no function node of the flows calls function "${name}"${didYouMean(name, reach.functions)}`, atKey);
  };

  for (const scope of scopes(file)) {
    for (const [agentName, tasks] of Object.entries(scope.agents ?? {})) {
      const at = scope.at + pointer('agents', agentName);
      if (!agent(at, agentName, true)) continue;
      for (const taskName of Object.keys(tasks)) task(`${at}${pointer(taskName)}`, taskName, agentName, true);
    }
    for (const [name, actions] of Object.entries(scope.connectors ?? {})) {
      const at = scope.at + pointer('connectors', name);
      service(at, name, undefined, true);
      if (reach.services.has(name)) for (const action of Object.keys(actions)) service(at, name, action, true);
    }
    for (const name of Object.keys(scope.functions ?? {})) fn(scope.at + pointer('functions', name), name, true);
    for (const [i, approval] of (scope.approvals ?? []).entries()) {
      const at = scope.at + pointer('approvals', i, 'node');
      const type = reach.nodes.get(approval.node);
      if (type === undefined) node(at, approval.node, allNodes, anyWhere);
      else if (type !== 'human_approval') error('NOT_AN_APPROVAL', at, `node "${approval.node}" is a ${type} node, not a human_approval node`);
    }
  }

  const pattern = (at: string, p: CallPattern) => {
    if (p.agent !== undefined && agent(`${at}/agent`, p.agent, false) && p.task !== undefined) task(`${at}/task`, p.task, p.agent, false);
    if (p.connector !== undefined) {
      service(`${at}/connector`, p.connector, undefined, false);
      if (p.action !== undefined && reach.services.has(p.connector)) service(`${at}/action`, p.connector, p.action, false);
    }
    if (p.function !== undefined) fn(`${at}/function`, p.function, false);
    if (p.node !== undefined) node(`${at}/node`, p.node, allNodes, anyWhere);
  };
  file.tests.forEach((test, i) => {
    for (const { at, expect, top } of expectationBlocks(test, i)) {
      // A sub-flow's expectations name nodes of the flow that run ran: one the flows reach.
      const within = top ? topNodes : allNodes;
      const where = top ? topWhere : anyWhere;
      for (const key of ['ran', 'skipped'] as const) for (const [j, id] of (expect[key] ?? []).entries()) node(`${at}${pointer(key, j)}`, id, within, where);
      for (const id of Object.keys(expect.nodes ?? {})) node(`${at}${pointer('nodes', id)}`, id, within, where, true);
      if (expect.error?.node !== undefined) node(`${at}/error/node`, expect.error.node, within, where);
      for (const [j, n] of (expect.notifications ?? []).entries()) if (n.node !== undefined) node(`${at}${pointer('notifications', j, 'node')}`, n.node, allNodes, anyWhere);
      for (const { at: patternAt, pattern: p } of callPatterns(at, expect)) pattern(patternAt, p);
    }
  });
  return findings;
}
