// Runs every benchmark and prints its table: `pnpm bench`.
import { machine } from './harness.mjs';
import { validateBench } from './validate.bench.mjs';
import { heapBench, orchestrationBench, throughputBench } from './orchestration.bench.mjs';
import { durabilityBench } from './durability.bench.mjs';

console.log(`Gantry benchmarks — ${machine()}, medians of 9 samples after warm-up\n`);
console.log('Validate and compile a flow (a layered DAG of width 10 with the node types mixed; expressions are distinct, each parsed by JSONata)');
console.log(await validateBench());

console.log('\nOrchestration overhead: graphs of no-op nodes, in memory, against plain async code (Promise.all per layer)');
console.log(await orchestrationBench());
console.log('\nThroughput of a 10-node chain');
console.log(await throughputBench());
console.log('\nHeap for one 10,000-node run');
console.log(await heapBench());

const durable = await durabilityBench();
console.log(`\nDurability on SQLite (WAL, synchronous=FULL); ${durable.fsync}`);
console.log(durable.cost);
console.log('\nThroughput as the stored history grows');
console.log(durable.throughput);
