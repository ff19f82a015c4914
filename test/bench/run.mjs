// Runs every benchmark and prints its table: `pnpm bench`.
import { machine } from './harness.mjs';
import { validateBench } from './validate.bench.mjs';

console.log(`Gantry benchmarks — ${machine()}, medians of 9 samples after warm-up\n`);
console.log('Validate and compile a flow (a layered DAG of width 10 with the node types mixed; expressions are distinct, each parsed by JSONata)');
console.log(await validateBench());
