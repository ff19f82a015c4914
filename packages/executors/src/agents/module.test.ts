import { describe, expect, it } from 'vitest';
import { createEngine, FakeClock, systemClock, type FlowDocument } from '@gantry/engine';
import { builtinExecutors } from '../executors.js';
import { moduleAgent } from './module.js';
import { agentTask } from './test-kit.js';

describe('moduleAgent', () => {
  it('hands its handlers the engine\'s clock, so that their waits run on a fake one too', async () => {
    const clock = new FakeClock();
    let waited = false;
    const agent = moduleAgent({
      settle: async (_inputs, _task, _signal, context) => {
        // A task's own wait of ten minutes, on the clock it was given.
        await new Promise<void>((resolve) => context.clock.at(context.clock.now() + 600_000, resolve));
        waited = true;
        return { at: context.clock.now() };
      },
    });
    const engine = createEngine({ executors: builtinExecutors, agents: { settler: agent }, clock });
    const flow = { name: 'Settle', nodes: [{ id: 'settle', type: 'agent', data: { agent: 'settler', task: 'settle' } }], edges: [] } as FlowDocument;
    const start = clock.now();
    const run = await engine.start(flow, { trigger: {} });
    await clock.advance(599_999);
    expect(waited).toBe(false);
    await clock.advance(1);
    const result = await run.finished;
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ at: start + 600_000 });
  });

  it('gives the system clock to a caller that gives none', async () => {
    let given: unknown;
    await moduleAgent((_inputs, _task, _signal, context) => void (given = context.clock)).call(agentTask(), new AbortController().signal);
    expect(given).toBe(systemClock);
  });
});
