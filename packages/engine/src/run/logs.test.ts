// DESIGN §12, logs per node: what an attempt logged (ctx.log) or its agent printed
// (context.output) is journaled with the attempt as node.log events, before the attempt's end,
// bounded per attempt and per run with what was dropped counted; nothing when nothing logs.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { createEngine } from './engine.js';
import type { NodeLogEvent, RunEvent } from './events.js';
import { defineExecutor, type AgentTransport, type ExecutorDefinition } from './interfaces.js';
import type { LogOptions } from './log-options.js';
import { replay } from './state.js';
import { MemoryStore } from './store.js';
import { RunLogs } from './logs.js';
import { resolveLogOptions } from './log-options.js';

/** Logs through ctx.log at debug, info and error (with fields, a secret among them). */
const chatty = defineExecutor({
  type: 'chatty',
  async run(ctx) {
    ctx.log.debug('not kept at the default level');
    ctx.log.info({ items: 3, token: 'hunter2' }, 'copied %d files', 3);
    ctx.log.child({ step: 'two' }).error(new Error('disk nearly full'));
    return { output: {} };
  },
});

/** Calls the agent of its data. */
const calls = defineExecutor<{ agent: string }>({
  type: 'calls',
  async run(ctx, data) {
    const reply = await ctx.callAgent(data.agent, 'work', {});
    return { output: reply.result ?? {} };
  },
});

const quiet = defineExecutor({ type: 'quiet', run: async () => ({ output: {} }) });

/** An agent that prints `lines` lines on stderr in chunks that cut lines in two. */
function printer(lines: number, width = 10): AgentTransport {
  return {
    async call(_task, _signal, context) {
      const text = Array.from({ length: lines }, (_, i) => `${String(i).padStart(width, '.')}\n`).join('');
      for (let i = 0; i < text.length; i += 7) context?.output?.write(text.slice(i, i + 7), 'stderr');
      context?.output?.write('no newline at the end', 'stderr');
      return { status: 'succeeded', result: {} };
    },
  };
}

function engineWith(executors: ExecutorDefinition<never>[], agents: Record<string, AgentTransport> = {}, logs?: LogOptions | false) {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const engine = createEngine({ store, executors, agents, clock, logger: pino({ level: 'silent' }), ...(logs === undefined ? {} : { logs }) });
  return { store, engine, clock };
}

const logEvents = (events: readonly RunEvent[]) => events.filter((e): e is NodeLogEvent => e.type === 'node.log');
const types = (events: readonly RunEvent[]) => events.map((e) => ('nodeId' in e ? `${e.type} ${e.nodeId}` : e.type));

describe('logs per node', () => {
  it('keeps what ctx.log logged at info and above, fields and all but secrets, before the node ends', async () => {
    const { store, engine } = engineWith([chatty as ExecutorDefinition<never>]);
    const run = await engine.start({ name: 'f', nodes: [{ id: 'copy', type: 'chatty', data: {} }], edges: [] }, { runId: 'r' });
    await run.finished;
    const journal = store.events('r');
    expect(types(journal)).toEqual(['run.started', 'node.started copy', 'node.log copy', 'node.succeeded copy', 'run.finished']);
    const [log] = logEvents(journal);
    expect(log!.lines.map((l) => [l.source, l.level, l.text])).toEqual([
      ['log', 'info', 'copied 3 files {"items":3,"token":"[REDACTED]"}'],
      ['log', 'error', 'Error: disk nearly full'],
    ]);
    expect(log).toMatchObject({ attempt: 1, bytes: Buffer.byteLength(log!.lines.map((l) => l.text).join('')) });
    expect(replay('r', journal).logBytes).toBe(log!.bytes);
  });

  it('keeps an agent\'s output line by line, a last line without its newline too', async () => {
    const { store, engine } = engineWith([calls as ExecutorDefinition<never>], { talker: printer(3) });
    await (await engine.start({ name: 'f', nodes: [{ id: 'n', type: 'calls', data: { agent: 'talker' } }], edges: [] }, { runId: 'r' })).finished;
    const lines = logEvents(store.events('r')).flatMap((e) => e.lines.map((l) => `${l.source}: ${l.text}`));
    expect(lines).toEqual(['stderr: .........0', 'stderr: .........1', 'stderr: .........2', 'stderr: no newline at the end']);
  });

  it('drops lines past an attempt\'s bound and counts them; the run\'s bound spans its attempts', async () => {
    const { store, engine } = engineWith([calls as ExecutorDefinition<never>], { talker: printer(50) }, { maxLinesPerAttempt: 20, maxBytesPerRun: 300 });
    const flow = {
      name: 'f',
      nodes: [
        { id: 'a', type: 'calls', data: { agent: 'talker' } },
        { id: 'b', type: 'calls', data: { agent: 'talker' } },
      ],
      edges: [{ from: 'a', to: 'b' }],
    };
    await (await engine.start(flow, { runId: 'r' })).finished;
    const byNode = (id: string) => logEvents(store.events('r')).filter((e) => e.nodeId === id);
    const kept = (id: string) => byNode(id).reduce((n, e) => n + e.lines.length, 0);
    const dropped = (id: string) => byNode(id).reduce((n, e) => n + (e.dropped ?? 0), 0);
    // a: 20 of its 51 lines (10 bytes each); b: what is left of the run's 300 bytes.
    expect([kept('a'), dropped('a')]).toEqual([20, 31]);
    expect([kept('b'), dropped('b')]).toEqual([10, 41]);
    expect(replay('r', store.events('r')).logBytes).toBe(300);
  });

  it('journals a running attempt\'s lines as it goes, every flushMs of the engine\'s clock', async () => {
    let release!: () => void;
    const slow: AgentTransport = {
      async call(_task, _signal, context) {
        context?.output?.write('started\n', 'stderr');
        await new Promise<void>((r) => (release = r));
        context?.output?.write('done\n', 'stderr');
        return { status: 'succeeded', result: {} };
      },
    };
    const { store, engine, clock } = engineWith([calls as ExecutorDefinition<never>], { slow }, { flushMs: 20 });
    const run = await engine.start({ name: 'f', nodes: [{ id: 'n', type: 'calls', data: { agent: 'slow' } }], edges: [] }, { runId: 'r' });
    await clock.advance(19);
    expect(logEvents(store.events('r'))).toEqual([]);
    await clock.advance(1);
    expect(logEvents(store.events('r'))).toHaveLength(1);
    expect(run.status()).toBe('running');
    release();
    await run.finished;
    expect(logEvents(store.events('r')).map((e) => e.lines.map((l) => l.text))).toEqual([['started'], ['done']]);
  });

  it('an agent that keeps printing past its bound adds no event per flushMs: the drops are counted at its end', async () => {
    const clock = new FakeClock();
    const recorded: NodeLogEvent[] = [];
    const scope = { runId: 'r', state: {}, core: { options: { clock } }, now: () => clock.now(), record: (e: NodeLogEvent) => recorded.push(e) };
    const logs = new RunLogs(scope as unknown as ConstructorParameters<typeof RunLogs>[0], resolveLogOptions({ maxLinesPerAttempt: 10, flushMs: 20 })!);
    const attempt = logs.attempt('n', 1, undefined, false);
    // One line every 100 ms for ten minutes of the engine's clock.
    for (let i = 0; i < 6_000; i++) {
      attempt.write(`line ${i}\n`);
      await clock.advance(100);
    }
    attempt.close();
    expect(recorded.reduce((n, e) => n + e.lines.length, 0)).toBe(10);
    expect(recorded.reduce((n, e) => n + (e.dropped ?? 0), 0)).toBe(5_990);
    expect(recorded.length).toBeLessThanOrEqual(12);
  });

  it('journals nothing, and makes nothing, for attempts that log nothing, or with logs: false', async () => {
    const { store, engine } = engineWith([quiet as ExecutorDefinition<never>, calls as ExecutorDefinition<never>], { silent: printer(0) });
    const flow = { name: 'f', nodes: [{ id: 'q', type: 'quiet', data: {} }, { id: 's', type: 'calls', data: { agent: 'silent' } }], edges: [] };
    await (await engine.start(flow, { runId: 'r' })).finished;
    // The silent agent still ends its output with a partial line: "no newline at the end".
    expect(logEvents(store.events('r')).map((e) => e.nodeId)).toEqual(['s']);
    const off = engineWith([chatty as ExecutorDefinition<never>, calls as ExecutorDefinition<never>], { talker: printer(3) }, false);
    const offFlow = { name: 'f', nodes: [{ id: 'c', type: 'chatty', data: {} }, { id: 't', type: 'calls', data: { agent: 'talker' } }], edges: [] };
    await (await off.engine.start(offFlow, { runId: 'r' })).finished;
    expect(logEvents(off.store.events('r'))).toEqual([]);
  });

  it('refuses bad logs options with what was expected', () => {
    expect(() => createEngine({ logs: { maxLinesPerAttempt: 0 } })).toThrow('createEngine: expected logs.maxLinesPerAttempt to be an integer ≥ 1, got 0');
    expect(() => createEngine({ logs: { maxLinesPerAtempt: 5 } as never })).toThrow('unknown logs option "maxLinesPerAtempt" — did you mean "maxLinesPerAttempt"?');
    expect(() => createEngine({ logs: { level: 'loud' as never } })).toThrow('expected logs.level to be one of trace, debug, info, warn, error, fatal, got "loud"');
  });
});
