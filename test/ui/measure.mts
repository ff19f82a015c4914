// Figures of the web UI, for a quiet machine (not a test): the bundle, the time from opening a
// run page to the first drawn graph (the shipped pipeline, and a generated flow of 500 nodes),
// and the latency from an engine event to its change on the page (median over 100 events).
//   npx tsx test/ui/measure.mts
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TOKENS, api, deliver, findChromium, launch, signedIn, startServe } from './harness.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const build = spawnSync(process.execPath, [join(ROOT, 'packages/ui/build.mjs'), '--force'], { encoding: 'utf8' });
console.log(build.stdout.trim());

/** webhook → 50 layers of 10 `wait 0` nodes, each joined to two of the layer before. */
function layered(): object {
  const nodes: object[] = [{ id: 'hook', type: 'webhook', data: { endpoint: '/big', authentication: 'github_webhook_secret' } }];
  const edges: object[] = [];
  for (let layer = 0; layer < 50; layer++) {
    for (let i = 0; i < 10; i++) {
      const id = `n${layer}_${i}`;
      nodes.push({ id, type: 'wait', data: { seconds: 0 } });
      if (layer === 0) edges.push({ from: 'hook', to: id });
      else for (const j of new Set([i, (i + 3) % 10])) edges.push({ from: `n${layer - 1}_${j}`, to: id });
    }
  }
  return { name: 'Five hundred', nodes: nodes.slice(0, 500), edges: edges.filter((e) => nodes.slice(0, 500).some((n) => (n as { id: string }).id === (e as { to: string }).to)) };
}

/** webhook → 4 s for the page to open → a chain of 100 waits of 0.1 s: an event every tenth of a second. */
function chain(): object {
  const nodes: object[] = [
    { id: 'hook', type: 'webhook', data: { endpoint: '/chain', authentication: 'github_webhook_secret' } },
    { id: 'first', type: 'wait', data: { seconds: 4 } },
  ];
  const edges: object[] = [{ from: 'hook', to: 'first' }];
  for (let i = 0; i < 100; i++) {
    nodes.push({ id: `s${i}`, type: 'wait', data: { seconds: 0.1 } });
    edges.push({ from: i === 0 ? 'first' : `s${i - 1}`, to: `s${i}` });
  }
  return { name: 'Chain', nodes, edges };
}

const serve = await startServe({ bakeSeconds: 1, flows: { 'five-hundred.json': layered(), 'chain.json': chain() } });
const browser = await launch(findChromium().path!);
try {
  const { page } = await signedIn(browser, serve.url, TOKENS.alice);
  const firstGraph = async (runId: string, times = 5) => {
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      await page.goto(`${serve.url}/ui/runs/${runId}`);
      await page.waitForFunction(() => performance.getEntriesByName('gantry:graph-drawn').length > 0, undefined, { timeout: 60_000 });
      ms.push(await page.evaluate(() => performance.getEntriesByName('gantry:graph-drawn')[0]!.startTime));
    }
    return ms;
  };

  const release = JSON.parse(readFileSync(join(ROOT, 'packages/agents-local/examples/release.json'), 'utf8'));
  const pipeline = await deliver(serve.url, '/deploy/webhook', release, 'measure-1');
  for (;;) {
    const v = await api(serve.url, `/runs/${pipeline}`, TOKENS.alice);
    if (v.pending_approvals.length > 0) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const shipped = await firstGraph(pipeline);
  console.log(`first drawn graph, shipped pipeline (10 nodes): median ${median(shipped).toFixed(0)} ms of ${shipped.map((x) => x.toFixed(0)).join(', ')}`);

  const big = await deliver(serve.url, '/big', {}, 'measure-big');
  for (;;) {
    const v = await api(serve.url, `/runs/${big}`, TOKENS.alice);
    if (v.status !== 'running' && v.status !== 'waiting') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const five = await firstGraph(big, 3);
  console.log(`first drawn graph, 500 nodes (finished run): median ${median(five).toFixed(0)} ms of ${five.map((x) => x.toFixed(0)).join(', ')}`);

  // Latency: the page notes when each node turns succeeded; the journal says when the engine recorded it.
  await page.goto(`${serve.url}/ui/`);
  const chainRun = 'delivery-measure-chain';
  const opened = deliver(serve.url, '/chain', {}, 'measure-chain');
  await opened;
  await page.goto(`${serve.url}/ui/runs/${chainRun}`);
  await page.locator('[data-node="s0"]').waitFor();
  await page.evaluate(() => {
    const seen: Record<string, number> = ((window as unknown as { seen: Record<string, number> }).seen = {});
    new MutationObserver((records) => {
      const t = performance.timeOrigin + performance.now();
      for (const r of records) {
        const el = r.target as Element;
        if (el.getAttribute('data-state') === 'succeeded') seen[el.getAttribute('data-node')!] ??= t;
      }
    }).observe(document.body, { attributes: true, attributeFilter: ['data-state'], subtree: true });
  });
  await page.locator('[data-node="s99"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
  const seen = await page.evaluate(() => (window as unknown as { seen: Record<string, number> }).seen);
  const journal = (await api(serve.url, `/runs/${chainRun}?events=true`, TOKENS.alice)).events as { type: string; nodeId?: string; at: number }[];
  const lags = journal.filter((e) => e.type === 'node.succeeded' && e.nodeId!.startsWith('s') && seen[e.nodeId!] !== undefined).map((e) => seen[e.nodeId!]! - e.at);
  console.log(`engine event → page: median ${median(lags).toFixed(1)} ms over ${lags.length} events (min ${Math.min(...lags).toFixed(1)}, max ${Math.max(...lags).toFixed(1)})`);
} finally {
  await browser.close();
  await serve.stop();
}
