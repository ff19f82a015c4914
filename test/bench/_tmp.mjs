import { durabilityBench } from './durability.bench.mjs';
const r = await durabilityBench({ histories: [1] });
console.log(r.fsync); console.log(r.cost); console.log(r.throughput);
