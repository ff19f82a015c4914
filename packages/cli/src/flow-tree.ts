import { dirname, resolve } from 'node:path';
import { flowReferences, isPlainName, type CompiledFlow, type Engine, type GantryConfig } from '@gantry/engine';

/**
 * Loads every flow a run of `top` may start — its sub-flows and the flows of the agent tasks it
 * names, and theirs — so that a problem in any of them (an undeclared credential, a reference
 * outside its folder) refuses the run before anything runs, not half-way. References computed
 * by expressions are checked when the run reaches them.
 */
export async function loadFlowTree(engine: Engine, top: CompiledFlow, config: GantryConfig, configFolder: string): Promise<void> {
  const seen = new Set<string>(top.path === undefined ? [] : [top.path]);
  const pending: CompiledFlow[] = [top];
  for (let flow = pending.pop(); flow !== undefined; flow = pending.pop()) {
    const folder = flow.path === undefined ? process.cwd() : dirname(flow.path);
    for (const ref of flowReferences(flow.definition)) {
      let file: string | undefined;
      if (ref.kind === 'subflow' && isPlainName(ref.name)) file = resolve(folder, ref.name);
      if (ref.kind === 'agent' && isPlainName(ref.agent) && isPlainName(ref.task)) {
        const agentFlow = config.agents?.[ref.agent]?.flows?.[ref.task];
        if (agentFlow !== undefined) file = resolve(configFolder, agentFlow);
      }
      if (file === undefined || seen.has(file)) continue;
      seen.add(file);
      pending.push(await engine.loadFlow(file));
    }
  }
}
