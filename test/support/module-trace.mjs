// `node --import ./module-trace.mjs …` writes every module the process loads, one URL or path a
// line, to the file named by GANTRY_MODULE_TRACE: those imported (through a resolve hook) and
// those required (require's cache, read at exit). For tests of what a command loads.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.GANTRY_MODULE_TRACE;
if (file === undefined) throw new Error('module-trace: set GANTRY_MODULE_TRACE to the file to write');

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(file)}, resolved.url + '\\n');
  return resolved;
}`)}`,
);

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(file, Object.keys(cache).join('\n') + '\n'));
