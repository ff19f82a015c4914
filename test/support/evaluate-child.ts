/**
 * A child process for the expression property test: evaluates each expression of a JSON array
 * read from stdin, one after the other, and prints one JSON line per expression (its outcome and
 * how long it took). A V8 fatal error kills this process, not the test runner.
 */
import type { CompiledFlow } from '@gantry/engine';
// Not part of the public surface: the property test drives the evaluator itself.
import { evaluateExpression } from '../../packages/engine/src/run/expressions.js';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const expressions = JSON.parse(Buffer.concat(chunks).toString('utf8')) as string[];
const flow = { expression: () => undefined } as unknown as CompiledFlow;
const bindings = { trigger: { title: `${'a'.repeat(29)}!`, big: 'b'.repeat(100_000) }, params: {}, nodes: {}, run: { id: 'r', flow: 'f', started_at: '' } };
for (const text of expressions) {
  const started = performance.now();
  let code = 'OK';
  try {
    await evaluateExpression(flow, `{% ${text} %}`, {}, bindings);
  } catch (error) {
    code = (error as { code?: string }).code ?? `UNEXPECTED ${(error as Error).message}`;
  }
  process.stdout.write(`${JSON.stringify({ text: text.slice(0, 200), code, ms: Math.round(performance.now() - started) })}\n`);
}
