import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GantryError } from '@gantry/engine';
import { parseCommandArgs } from '../args.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { printer, type Io } from '../io.js';

export const testHelp = `Usage: gantry test [file|folder…] [--json] [--junit file]

Runs flow tests (*.test.json): each test runs its flow on a fake clock against scripted agents,
connectors and functions, gives the approvals it lists, and checks what ran, what was skipped,
the end status, the outputs and the calls made. Nothing reaches the network or a real agent.
A folder means every *.test.json below it; no name means every one below this folder.

Options:
  --json          print one JSON document: the report, every test's failures, calls and notifications
  --junit file    also write the report as JUnit XML, for CI systems
  -h, --help      show this help

Exit status: 0 when every test passes, 1 when one fails, 2 when a test file is invalid (or on a usage error).`;

export async function testCommand(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('test', argv, { json: { type: 'boolean' }, junit: { type: 'string' } });
  // Loaded on first use, so that the commands that run nothing start fast.
  const { findTestFiles, runTestFiles, formatReport, junitReport } = await import('@gantry/testing');
  const report = await runTestFiles(findTestFiles(positionals, io.cwd), { cwd: io.cwd });
  const p = printer(io);
  if (values.json === true) p.out(JSON.stringify(report, null, 2));
  else io.out.write(formatReport(report, p.outStyle));
  if (typeof values.junit === 'string') {
    try {
      writeFileSync(resolve(io.cwd, values.junit), junitReport(report));
    } catch (cause) {
      throw new GantryError('USAGE', `gantry test: cannot write the JUnit report ${values.junit}: ${(cause as Error).message}`, { cause });
    }
  }
  return report.invalid > 0 ? EXIT.invalid : report.failed > 0 ? EXIT.failed : EXIT.succeeded;
}
