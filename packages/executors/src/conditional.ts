import { defineExecutor, isExpression, type ExecutorContext, type JsonObject, type JsonValue } from '@gantry/engine';
import { compare, readPath } from './compare.js';
import { callAgents } from './agents-together.js';

interface Condition extends JsonObject {}

/** A metric or an `if`: an expression over the input, or a path into it. */
async function valueOf(ctx: ExecutorContext, reference: string): Promise<JsonValue | undefined> {
  return isExpression(reference) ? ctx.evaluate(reference) : readPath(ctx.input, reference);
}

/**
 * Gate form: every check must hold; the outcome is pass or fail, with every check's expected and
 * actual values. Router form: every `if` that holds selects its `then` label and calls its
 * agents. The output passes the input on, so data flows through a conditional.
 */
export const conditionalExecutor = defineExecutor<JsonObject>({
  type: 'conditional',
  resolveData: false,
  async run(ctx, data) {
    const conditions = (data.conditions as Condition[]) ?? [];
    const router = conditions.some((c) => 'if' in c);
    return router ? route(ctx, conditions) : gate(ctx, conditions, data);
  },
});

async function gate(ctx: ExecutorContext, conditions: Condition[], data: JsonObject) {
  const checks: JsonObject[] = [];
  for (const condition of conditions) {
    const metric = String(condition.metric);
    const operator = String(condition.operator);
    const actual = await valueOf(ctx, metric);
    const expected = await ctx.evaluate(condition.value ?? null);
    checks.push({ metric, operator, expected, actual: actual ?? null, passed: compare(actual, operator, expected), ...(actual === undefined || actual === null ? { missing: true } : {}) });
  }
  const passed = checks.every((c) => c.passed === true);
  const outcome = passed ? 'pass' : 'fail';
  const action = passed ? data.pass_action : data.fail_action;
  return {
    output: { ...ctx.input, outcome, passed, checks, ...(typeof action === 'string' ? { action } : {}) },
    labels: [outcome],
    outcome,
    blocked: !passed && data.fail_action === 'block_deployment',
  } as const;
}

async function route(ctx: ExecutorContext, conditions: Condition[]) {
  const labels: string[] = [];
  const calls: { label: string; agents: string[] }[] = [];
  for (const condition of conditions) {
    if (!(await valueOf(ctx, String(condition.if)))) continue;
    const label = String(condition.then);
    if (!labels.includes(label)) labels.push(label);
    if (Array.isArray(condition.agents) && condition.agents.length > 0) calls.push({ label, agents: condition.agents.map(String) });
  }
  const output: JsonObject = { ...ctx.input, routes: labels };
  const results = await Promise.all(calls.map(({ label, agents }) => callAgents(ctx, agents.map((agent) => ({ agent, task: label })), 'fail_fast')));
  calls.forEach(({ label }, i) => {
    output[label] = results[i]!;
  });
  return { output, labels };
}
