#!/usr/bin/env node
import { main } from './main.js';

// Output piped into a program that stops reading (`gantry run … | head`) must not crash the run:
// what cannot be written is dropped, and the command finishes as it would have.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (() => true) as typeof stream.write;
  });
}

const code = await main(process.argv.slice(2));
// A finished command exits even if timers remain (an abandoned approval's deadline); the exit
// waits until what was written to stdout and stderr has been handed over.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
