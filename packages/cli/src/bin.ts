#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// A finished command exits even if timers remain (an abandoned approval's deadline); the exit
// waits until what was written to stdout and stderr has been handed over.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
