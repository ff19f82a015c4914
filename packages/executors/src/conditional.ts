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
  run(ctx, data) {
    const conditions = (data.conditions as Condition[]) ?? [];
    let router = false;
    for (let i = 0; i < conditions.length; i++) if ('if' in conditions[i]!) router = true;
    return router ? route(ctx, conditions) : gate(ctx, conditions, data);
  },
});

/**
 * A gate is on every deployment's path and often repeated (a diamond per step), so what needs
 * no expression is read without awaiting: a path into the input, a literal value. The flow is
 * frozen, hence indexed loops (for…of over a frozen array allocates per element).
 */
async function gate(ctx: ExecutorContext, conditions: Condition[], data: JsonObject) {
  const checks: JsonObject[] = [];
  let passed = true;
  for (let i = 0; i < conditions.length; i++) {
    const condition = conditions[i]!;
    const metric = String(condition.metric);
    const operator = String(condition.operator);
    const actual = isExpression(metric) ? await ctx.evaluate(metric) : readPath(ctx.input, metric);
    const value = condition.value ?? null;
    const expected = typeof value === 'object' && value !== null ? await ctx.evaluate(value) : typeof value === 'string' && isExpression(value) ? await ctx.evaluate(value) : value;
    const ok = compare(actual, operator, expected);
    if (!ok) passed = false;
    checks.push(actual === undefined || actual === null ? { metric, operator, expected, actual: null, passed: ok, missing: true } : { metric, operator, expected, actual, passed: ok });
  }
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
