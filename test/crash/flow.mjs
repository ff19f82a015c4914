// The crash tests' flow: about 50 nodes generated deterministically from a seed, and what its test
// agent answers. The driver (a child process) and the checks (the parent) both build it from the
// seed, so they agree on node ids, delays and results without passing anything else around.
//
// Shape (K, L, M and the gates vary with the seed):
//
//   start → split ─┬─ b0_0 → b0_1 → [b0_gate ─pass→ b0_hi ─┐ ] → b0_2 … ─┐
//                  ├─ b1_0 → …                ─fail→ b1_lo ─┴→ b0_merge  ├→ fanin (join all)
//                  └─ … K branches                                       ─┘
//   fanin → each (for_each over M items, concurrency 2) → pause (wait 50–200 ms)
//         → flaky (fails once, retried after 50 ms) ─┬→ maybe (when: v_start < 30) ─┐
//                                                    └───────────────────────────────┴→ split2 (join any)
//   split2 ─┬─ c0_0 → c0_1 … ─┐
//           ├─ c1 … (one branch is a parallel node, worker + auditor)  ├→ fanin2 (join all)
//           └─ [variant 3: risky ─error→ recover] ─┘
//   fanin2 → final_gate ─pass→ ship ─┐
//                       ─fail→ hold ─┴→ finish (join any)   [variant 2: finish fails, the run fails]

/** A small fast PRNG (mulberry32): the same seed gives the same flow on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable value 0–99 for a node path of a seed: what the test agent "computes". */
export function valueOf(seed, path) {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619);
  return (h >>> 0) % 100;
}

export const RUN_ID = 'crash-run';

/**
 * The flow of a seed, with what the driver and the checks need to know about it:
 * `delays` (ms the agent takes per node id), `fanoutChildren` (the heads of split's branches),
 * `items` (the for_each items), `waitNode`, `retryNode`, and `variant`.
 */
export function buildFlow(seed) {
  const rnd = prng(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const nodes = [];
  const edges = [];
  const delays = {};
  const variant = seed % 4;
  const agent = (id, extra = {}, delay = int(0, 12)) => {
    nodes.push({ id, type: 'agent', data: { agent: 'worker', task: 'step' }, ...extra });
    delays[id] = delay;
  };
  const edge = (from, to, condition) => edges.push(condition === undefined ? { from, to } : { from, to, condition });

  agent('start');
  agent('split');
  edge('start', 'split');

  // First fan-out: K branches, each a chain with maybe a gate (pass/fail, merged again by join any).
  const K = int(3, 5);
  const fanoutChildren = [];
  const tails = [];
  for (let b = 0; b < K; b++) {
    const L = int(3, 5);
    const gateAt = rnd() < 0.7 ? int(0, L - 2) : -1;
    let prev = 'split';
    for (let j = 0; j < L; j++) {
      const id = `b${b}_${j}`;
      // The heads end one after the other (10 ms apart), so "half the fan-out done" is a moment.
      agent(id, {}, j === 0 ? 5 + 12 * b : int(0, 12));
      if (j === 0) fanoutChildren.push(id);
      edge(prev, id);
      prev = id;
      if (j === gateAt) {
        const gate = `b${b}_gate`;
        nodes.push({ id: gate, type: 'conditional', data: { conditions: [{ metric: `v_${id}`, operator: '>=', value: 50 }] } });
        edge(prev, gate);
        agent(`b${b}_hi`);
        agent(`b${b}_lo`);
        agent(`b${b}_merge`, { join: 'any' });
        edge(gate, `b${b}_hi`, 'pass');
        edge(gate, `b${b}_lo`, 'fail');
        edge(`b${b}_hi`, `b${b}_merge`);
        edge(`b${b}_lo`, `b${b}_merge`);
        prev = `b${b}_merge`;
      }
    }
    tails.push(prev);
  }
  agent('fanin', { join: 'all' });
  for (const t of tails) edge(t, 'fanin');

  // for_each, a short real-time wait, a node retried once, a `when` guard.
  const M = int(3, 5);
  const items = Array.from({ length: M }, (_, i) => i);
  nodes.push({ id: 'each', type: 'agent', for_each: items, concurrency: 2, data: { agent: 'worker', task: 'item', inputs: { item: '{% $item %}' } } });
  delays.each = 8;
  edge('fanin', 'each');
  const waitMs = int(50, 200);
  nodes.push({ id: 'pause', type: 'wait', data: { seconds: waitMs / 1000 } });
  edge('each', 'pause');
  agent('flaky', { data: { agent: 'worker', task: 'flaky' }, retry: { max_attempts: 3, backoff: 'fixed', initial_seconds: 0.05, jitter: false } });
  edge('pause', 'flaky');
  agent('maybe', { when: '{% v_start < 30 %}' });
  edge('flaky', 'maybe');
  agent('split2', { join: 'any' });
  edge('flaky', 'split2');
  edge('maybe', 'split2');

  // Second fan-out, with a parallel node (two agents) and, in variant 3, a caught failure.
  const K2 = int(2, 3);
  const tails2 = [];
  for (let b = 0; b < K2; b++) {
    const L = int(2, 4);
    let prev = 'split2';
    for (let j = 0; j < L; j++) {
      const id = `c${b}_${j}`;
      if (b === 0 && j === 1) {
        nodes.push({ id, type: 'parallel', data: { agents: [{ agent: 'worker', task: 'par' }, { agent: 'auditor', task: 'par' }] } });
        delays[id] = int(0, 12);
      } else agent(id);
      edge(prev, id);
      prev = id;
    }
    tails2.push(prev);
  }
  if (variant === 3) {
    agent('risky', { data: { agent: 'worker', task: 'broken' } });
    agent('recover');
    edge('split2', 'risky');
    edge('risky', 'recover', 'error');
    tails2.push('recover');
  }
  agent('fanin2', { join: 'all' });
  for (const t of tails2) edge(t, 'fanin2');

  nodes.push({ id: 'final_gate', type: 'conditional', data: { conditions: [{ metric: 'v_fanin2', operator: '<', value: 50 }] } });
  edge('fanin2', 'final_gate');
  agent('ship');
  agent('hold');
  edge('final_gate', 'ship', 'pass');
  edge('final_gate', 'hold', 'fail');
  agent('finish', { join: 'any', ...(variant === 2 ? { data: { agent: 'worker', task: 'broken' } } : {}) });
  edge('ship', 'finish');
  edge('hold', 'finish');

  return {
    flow: { name: `crash-${seed}`, description: 'generated for the crash tests', nodes, edges },
    delays,
    fanoutChildren,
    items,
    waitNode: 'pause',
    waitMs,
    retryNode: 'flaky',
    variant,
  };
}

/** The node ids of a built flow whose executor calls the test agent (agent and parallel nodes). */
export function agentNodes(built) {
  return built.flow.nodes.filter((n) => n.type === 'agent' || n.type === 'parallel').map((n) => n.id);
}
