import { defineExecutor, isExpression, type ExecutorContext, type JsonObject, type JsonValue } from '@gantry/engine';
import { compare, readPath, readSteps } from './compare.js';
import { callAgents } from './agents-together.js';
import { merged } from './inputs.js';

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

/** A gate's check as read once from the flow: what it compares and whether anything needs evaluating. */
interface GateCheck {
  readonly metric: string;
  readonly operator: string;
  /** The metric's path into the input, split; undefined when the metric is an expression. */
  readonly steps: readonly string[] | undefined;
  readonly value: JsonValue;
  /** The expected value holds an expression (a `{% … %}` string, or one inside an object). */
  readonly evaluated: boolean;
}

/** Gates by their (frozen) data: a flow's gate runs on every run, its checks read once. */
const gates = new WeakMap<object, readonly GateCheck[]>();

function gateChecks(conditions: readonly Condition[], data: JsonObject): readonly GateCheck[] {
  let checks = gates.get(data);
  if (checks !== undefined) return checks;
  checks = conditions.map((condition) => {
    const metric = String(condition.metric);
    const value = condition.value ?? null;
    return {
      metric,
      operator: String(condition.operator),
      steps: isExpression(metric) ? undefined : (metric as string).split('.'),
      value,
      evaluated: (typeof value === 'object' && value !== null) || isExpression(value),
    };
  });
  // Only a frozen flow's data is the same object on every run; data made in code may change.
  if (Object.isFrozen(data)) gates.set(data, checks);
  return checks;
}

const PASS: readonly string[] = Object.freeze(['pass']);
const FAIL: readonly string[] = Object.freeze(['fail']);

/**
 * Gate form: every check must hold. A gate is on every deployment's path and often repeated (a
 * diamond per step), so a gate whose checks need no expression (paths into the input, literal
 * values) answers without awaiting anything.
 */
function gate(ctx: ExecutorContext, conditions: Condition[], data: JsonObject) {
  const checks = gateChecks(conditions, data);
  for (let i = 0; i < checks.length; i++) if (checks[i]!.steps === undefined || checks[i]!.evaluated) return evaluatedGate(ctx, checks, data);
  const results: JsonObject[] = [];
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i]!;
    results.push(checkResult(check, readSteps(ctx.input, check.steps!), check.value));
  }
  return Promise.resolve(gateResult(ctx, results, data));
}

async function evaluatedGate(ctx: ExecutorContext, checks: readonly GateCheck[], data: JsonObject) {
  const results: JsonObject[] = [];
  for (const check of checks) {
    const actual = check.steps === undefined ? await ctx.evaluate(check.metric) : readSteps(ctx.input, check.steps);
    results.push(checkResult(check, actual, check.evaluated ? await ctx.evaluate(check.value) : check.value));
  }
  return gateResult(ctx, results, data);
}

function checkResult(check: GateCheck, actual: JsonValue | undefined, expected: JsonValue): JsonObject {
  const { metric, operator } = check;
  const passed = compare(actual, operator, expected);
  return actual === undefined || actual === null ? { metric, operator, expected, actual: null, passed, missing: true } : { metric, operator, expected, actual, passed };
}

function gateResult(ctx: ExecutorContext, checks: JsonObject[], data: JsonObject) {
  let passed = true;
  for (let i = 0; i < checks.length; i++) if (checks[i]!.passed === false) passed = false;
  const outcome = passed ? 'pass' : 'fail';
  const action = passed ? data.pass_action : data.fail_action;
  // The output passes the input on, so data flows through a conditional.
  const output = merged(ctx.input, { outcome, passed, checks });
  if (typeof action === 'string') output.action = action;
  return { output, labels: passed ? PASS : FAIL, outcome, blocked: !passed && data.fail_action === 'block_deployment' } as const;
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
  const output = merged(ctx.input, { routes: labels });
  const results = await Promise.all(calls.map(({ label, agents }) => callAgents(ctx, agents.map((agent) => ({ agent, task: label })), 'fail_fast')));
  calls.forEach(({ label }, i) => {
    output[label] = results[i]!;
  });
  return { output, labels };
}
