// V8 11 (Node 20) makes every object literal with a getter or a setter a dictionary, so that each
// read of one of its fields is a lookup by name. The engine read its core that way for every event
// and attempt, which cost a sixth of a small run (BENCHMARKS.md §5, fifth round). The objects on
// the run path are classes or plain literals, with an accessor defined after the literal when one
// is needed (Object.defineProperty keeps the object fast).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
/** The code a run goes through: the engine, the executors and the durable store. */
const RUN_PATH = ['packages/engine/src', 'packages/executors/src', 'packages/store-sqlite/src'];

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

/** `file:line name` of every getter or setter written in an object literal. */
function accessorsInLiterals(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      for (const member of node.properties) {
        if (!ts.isGetAccessorDeclaration(member) && !ts.isSetAccessorDeclaration(member)) continue;
        found.push(`${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(member.getStart()).line + 1} ${member.name.getText(source)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('objects on the run path keep fast properties', () => {
  it('no object literal in the engine, the executors or the store has a getter or a setter', () => {
    const found = RUN_PATH.flatMap((dir) => sources(join(ROOT, dir))).flatMap((file) => accessorsInLiterals(file, readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('the check finds an accessor in a literal, and not in a class', () => {
    const text = 'class A { get a() { return 1; } }\nconst o = {\n  b: 1,\n  get c() { return 2; },\n  set d(v: number) {},\n};\n';
    expect(accessorsInLiterals(join(ROOT, 'x.ts'), text)).toEqual(['x.ts:4 c', 'x.ts:5 d']);
  });

  it('a compiled flow, the engine, its core and a run are not dictionaries, in V8', () => {
    // In a process of its own, as V8's natives syntax is a flag of the whole process; on the
    // TypeScript sources, as the tests are, so that it needs no build.
    const script = `
      import { compileFlow, createEngine, MemoryStore } from '@gantry/engine';
      const flow = compileFlow({ name: 'f', nodes: [{ id: 'a', type: 'noop', data: {} }, { id: 'b', type: 'noop', data: {} }], edges: [{ from: 'a', to: 'b' }] }, { nodeTypes: new Map([['noop', undefined]]) });
      const store = new MemoryStore();
      const engine = createEngine({ store, executors: [{ type: 'noop', async run() { return { output: {} }; } }] });
      // What the fix changed is used first: a listener on and off, and the lazy graph.
      engine.on('event', () => {})();
      if (flow.graph.nodeCount() !== 2) throw new Error('graph');
      const run = await engine.start(flow);
      // RunHandle's execution is private to TypeScript only: the core is what every event goes through.
      const execution = run.execution;
      const objects = { flow, node: flow.nodes.get('a'), engine, options: engine.options, core: execution.core, run, execution, state: execution.state, event: store.events(run.id)[1] };
      await run.finished;
      console.log(JSON.stringify(Object.fromEntries(Object.entries(objects).map(([name, o]) => [name, %HasFastProperties(o)]))));
    `;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ flow: true, node: true, engine: true, options: true, core: true, run: true, execution: true, state: true, event: true });
  });
});
