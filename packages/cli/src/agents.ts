import { resolve } from 'node:path';
import { GantryError, type AgentConfig, type AgentRegistration, type AgentTransport } from '@gantry/engine';
import type { ModuleAgent } from '@gantry/executors';
import { importExport } from './import-module.js';

/** The transports' factories, passed in so that @gantry/executors is loaded only when needed. */
export interface TransportFactories {
  moduleAgent(impl: ModuleAgent, name: string): AgentTransport;
}

/** The configuration's agents as the engine registers them: a transport each, and the tasks flows perform. */
export async function agentsFromConfig(specs: Record<string, AgentConfig>, base: string, factories: TransportFactories): Promise<Record<string, AgentRegistration>> {
  const agents: Record<string, AgentRegistration> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const flows = spec.flows === undefined ? undefined : Object.fromEntries(Object.entries(spec.flows).map(([task, file]) => [task, resolve(base, file)]));
    const transport = spec.transport === 'flow' ? undefined : await transportFor(name, spec, base, factories);
    agents[name] = {
      ...(transport === undefined ? {} : { transport }),
      ...(flows === undefined ? {} : { flows }),
      ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
      ...(spec.compensations === undefined ? {} : { compensations: spec.compensations }),
    };
  }
  return agents;
}

async function transportFor(name: string, spec: AgentConfig, base: string, factories: TransportFactories): Promise<AgentTransport> {
  switch (spec.transport) {
    case 'module': {
      const impl = await importExport(resolve(base, spec.module!), spec.export, `agent "${name}"`);
      if (typeof impl !== 'function' && (typeof impl !== 'object' || impl === null)) {
        throw new GantryError('CONFIG_INVALID', `agent "${name}": the module's export must be a function or an object of task → function, got ${typeof impl}`);
      }
      return factories.moduleAgent(impl as ModuleAgent, 'agent');
    }
    default:
      throw new GantryError('CONFIG_INVALID', `agent "${name}": the ${spec.transport} transport is not available in this build`);
  }
}
