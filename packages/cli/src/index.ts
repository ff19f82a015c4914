export { main } from './main.js';
export type { Io } from './io.js';
export { EXIT } from './exit-codes.js';
export type { ExitCode } from './exit-codes.js';
export { toMermaid } from './render/mermaid.js';
export { toDot } from './render/dot.js';
