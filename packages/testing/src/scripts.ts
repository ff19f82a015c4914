import type { JsonObject } from '@gantry/engine';
import { ordinal, plural, show } from './format.js';
import { matches } from './match.js';
import type { AgentReplyScript, CallReplyScript, TestCase, TestFile } from './test-file.js';

type Reply = AgentReplyScript | CallReplyScript;

interface Entry<R extends Reply> {
  readonly reply: R;
  readonly times: number;
  /** Calls it may still answer. */
  left: number;
}

/**
 * The scripted replies of one task, action or function. Alone, a reply answers every call; in
 * a list, each call takes the first reply, in order, that is not used up and whose `match` holds.
 */
export class Script<R extends Reply> {
  private readonly entries: Entry<R>[];
  private calls = 0;

  constructor(script: R | readonly R[]) {
    const list = Array.isArray(script) ? (script as readonly R[]) : undefined;
    this.entries = list
      ? list.map((reply) => ({ reply, times: reply.times ?? 1, left: reply.times ?? 1 }))
      : [{ reply: script as R, times: (script as R).times ?? Infinity, left: (script as R).times ?? Infinity }];
  }

  /** The reply for a call with these inputs, or why there is none (a sentence's end). */
  take(inputs: JsonObject): { reply: R } | { none: string } {
    this.calls++;
    const entry = this.entries.find((e) => e.left > 0 && (e.reply.match === undefined || matches(e.reply.match, inputs)));
    if (entry !== undefined) {
      entry.left--;
      return { reply: entry.reply };
    }
    const open = this.entries.filter((e) => e.left > 0);
    if (open.length === 0) {
      const total = this.entries.reduce((n, e) => n + e.times, 0);
      return { none: `this is its ${ordinal(this.calls)} call, and its script answers ${plural(total, 'call')}` };
    }
    return { none: `none of its replies left matches these inputs (${open.map((e) => `match ${show(e.reply.match)}`).join('; ')})` };
  }
}

/** The scripts of one test: the file's, with the test's replacing them task by task. */
export interface CaseScripts {
  readonly agents: ReadonlyMap<string, ReadonlyMap<string, 'flow' | Script<AgentReplyScript>>>;
  readonly connectors: ReadonlyMap<string, ReadonlyMap<string, Script<CallReplyScript>>>;
  readonly functions: ReadonlyMap<string, Script<CallReplyScript>>;
}

export function caseScripts(file: TestFile, test: TestCase): CaseScripts {
  const two = <S, T>(a: Readonly<Record<string, Readonly<Record<string, S>>>> | undefined, b: typeof a, make: (s: S) => T) => {
    const out = new Map<string, Map<string, T>>();
    for (const layer of [a, b]) {
      for (const [outer, inner] of Object.entries(layer ?? {})) {
        if (!out.has(outer)) out.set(outer, new Map());
        for (const [key, script] of Object.entries(inner)) out.get(outer)!.set(key, make(script));
      }
    }
    return out;
  };
  const functions = new Map<string, Script<CallReplyScript>>();
  for (const layer of [file.functions, test.functions]) for (const [name, script] of Object.entries(layer ?? {})) functions.set(name, new Script(script));
  return {
    agents: two(file.agents, test.agents, (s) => (s === 'flow' ? 'flow' : new Script<AgentReplyScript>(s))),
    connectors: two(file.connectors, test.connectors, (s) => new Script<CallReplyScript>(s)),
    functions,
  };
}
