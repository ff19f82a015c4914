import { Engine } from 'bpmn-engine';
import { createRequire } from 'node:module';
const req = createRequire(createRequire(import.meta.url).resolve('bpmn-engine'));
const { default: BpmnModdle } = await import(req.resolve('bpmn-moddle'));
const serializerMod = await import(req.resolve('moddle-context-serializer'));
const Elements = await import(req.resolve('bpmn-elements'));
const serializer = serializerMod.default; const { TypeResolver } = serializerMod;
function chainXml(n) {
  let x = `<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bench"><process id="p" isExecutable="true"><startEvent id="s"/>`;
  for (let i = 0; i < n; i++) x += `<serviceTask id="n${i}" implementation="\${environment.services.noop}"/>`;
  x += `<endEvent id="e"/><sequenceFlow id="f_s" sourceRef="s" targetRef="n0"/>`;
  for (let i = 1; i < n; i++) x += `<sequenceFlow id="f${i}" sourceRef="n${i-1}" targetRef="n${i}"/>`;
  x += `<sequenceFlow id="f_e" sourceRef="n${n-1}" targetRef="e"/></process></definitions>`;
  return x;
}
function fanXml(n) {
  let x = `<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bench"><process id="p" isExecutable="true"><startEvent id="s"/><serviceTask id="start" implementation="\${environment.services.noop}"/><parallelGateway id="fork"/><parallelGateway id="joingw"/><serviceTask id="join" implementation="\${environment.services.noop}"/><endEvent id="e"/>`;
  x += `<sequenceFlow id="a" sourceRef="s" targetRef="start"/><sequenceFlow id="b" sourceRef="start" targetRef="fork"/><sequenceFlow id="c" sourceRef="joingw" targetRef="join"/><sequenceFlow id="d2" sourceRef="join" targetRef="e"/>`;
  for (let i = 0; i < n - 2; i++) x += `<serviceTask id="m${i}" implementation="\${environment.services.noop}"/><sequenceFlow id="fi${i}" sourceRef="fork" targetRef="m${i}"/><sequenceFlow id="fo${i}" sourceRef="m${i}" targetRef="joingw"/>`;
  return x + `</process></definitions>`;
}
let calls = 0;
const services = { noop: (ctx, next) => { calls++; Promise.resolve().then(() => next(null, {})); } };
const typeResolver = TypeResolver({ ...Elements });
for (const [name, xml, n] of [['chain', chainXml(100), 100], ['chain', chainXml(1000), 1000], ['fan', fanXml(100), 100], ['fan', fanXml(300), 300], ['fan', fanXml(1000), 1000]]) {
  const moddle = await new BpmnModdle().fromXML(xml);
  const sourceContext = serializer(moddle, typeResolver);
  for (let k = 0; k < 4; k++) {
    calls = 0;
    const t = performance.now(); const cpu0 = process.cpuUsage();
    const engine = new Engine({ name: 'b', sourceContext, services });
    const res = await Promise.race([new Promise((resolve, reject) => { engine.once('end', resolve); engine.once('error', reject); engine.execute().catch(reject); }), new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
    console.log(JSON.stringify(process.cpuUsage(cpu0)), name, n, ((performance.now() - t) * 1000 / n).toFixed(1), 'us/node', 'calls', calls, res === 'timeout' ? 'TIMEOUT' : '');
    if (res === 'timeout') break;
  }
}
process.exit(0);
