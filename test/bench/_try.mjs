import { openBpmn } from './engines/bpmn.mjs';
import { openNodeRed } from './engines/node-red.mjs';
import { openGantry } from './engines/gantry.mjs';
import { openBaseline } from './engines/baseline.mjs';
import { chain, fanOutIn, layered, diamonds } from './graphs.mjs';
import { probe } from './probe.mjs';
const engines = [await openBaseline(), await openGantry(), await openNodeRed(), await openBpmn()];
for (const shape of [chain(6), fanOutIn(6), layered(12, 3), diamonds(13)]) {
  for (const e of engines) {
    const p = await e.prepare(shape.flow);
    probe.trace = []; probe.calls = 0;
    await e.run(p);
    console.log(shape.flow.name.padEnd(16), e.name.padEnd(14), probe.calls, shape.tasks, probe.trace.sort().join(','));
  }
}
probe.trace = undefined;
for (const shape of [chain(1000), fanOutIn(1000), layered(1000), diamonds(1001)]) {
  for (const e of engines) {
    const p = await e.prepare(shape.flow);
    let t = performance.now(); probe.calls = 0;
    const r = await Promise.race([e.run(p).then(() => 'ok'), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    console.log(shape.flow.name.padEnd(16), e.name.padEnd(14), r, probe.calls, ((performance.now() - t) * 1000 / shape.flow.nodes.length).toFixed(2));
  }
}
for (const e of engines) await e.close();
process.exit(0);
