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

// Through the workspace's script (`pnpm gantry …`) the command runs in the repository root; the
// user's paths are relative to the folder they typed it in.
if (process.env.npm_lifecycle_event === 'gantry' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

const code = await main(process.argv.slice(2));
// A finished command exits even if timers remain (an abandoned approval's deadline); the exit
// waits until what was written to stdout and stderr has been handed over.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
