import { createRequire } from 'node:module';
import type Jsonata from 'jsonata';

/**
 * JSONata, loaded with require(). It is one CommonJS file of 300 KB: imported as ESM, Node first
 * scans its whole text for the names it exports (cjs-module-lexer), which cost 30 ms of every
 * start of the gantry command, five times what loading it costs.
 */
export const jsonata = createRequire(import.meta.url)('jsonata') as typeof Jsonata;
