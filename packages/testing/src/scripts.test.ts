import { describe, expect, it } from 'vitest';
import { Script } from './scripts.js';
import type { AgentReplyScript } from './test-file.js';

const take = (script: Script<AgentReplyScript>, inputs = {}) => {
  const taken = script.take(inputs);
  return 'reply' in taken ? taken.reply.result : taken.none;
};

describe('Script', () => {
  it('answers every call with a reply given alone', () => {
    const script = new Script<AgentReplyScript>({ result: { n: 1 } });
    expect([take(script), take(script), take(script)]).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  });

  it('answers calls in order with a list, each reply once unless it says how many times', () => {
    const script = new Script<AgentReplyScript>([{ result: { n: 1 }, times: 2 }, { result: { n: 2 } }]);
    expect([take(script), take(script), take(script)]).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }]);
    expect(take(script)).toBe('this is its 4th call, and its script answers 3 calls');
  });

  it('gives a call the first reply left whose match holds on its inputs', () => {
    const script = new Script<AgentReplyScript>([{ match: { weight: 50 }, result: { bad: true } }, { result: { bad: false }, times: 3 }]);
    expect([take(script, { weight: 10 }), take(script, { weight: 50 }), take(script, { weight: 75 })]).toEqual([{ bad: false }, { bad: true }, { bad: false }]);
  });

  it('says which matches were left when none holds', () => {
    const script = new Script<AgentReplyScript>({ match: { weight: 25 }, result: {} });
    expect(take(script, { weight: 50 })).toBe('none of its replies left matches these inputs (match {"weight":25})');
  });
});
