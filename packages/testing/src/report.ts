import { duration, plural } from './format.js';
import type { TestReport } from './run-tests.js';

/** Colours for a terminal; plain text by default. */
export interface ReportStyle {
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const PLAIN: ReportStyle = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

/**
 * The report a person reads, as a test runner prints it: each file and its tests, then each
 * failure with the expectation, where it is written, what happened instead and the history of
 * the node concerned, then the counts. Times are fake-clock times: the same on every machine.
 */
export function formatReport(report: TestReport, style: ReportStyle = PLAIN): string {
  const s = style;
  const lines: string[] = [];
  for (const file of report.files) {
    lines.push(`${s.bold(file.path)}${file.flow ? s.dim(` (${file.flow})`) : ''}`);
    if (file.status === 'invalid') {
      lines.push(`  ${s.red('✗')} invalid test file: none of its tests ran`);
      for (const d of file.diagnostics) {
        lines.push(`    ${file.path}:${d.line}:${d.column} ${d.severity === 'error' ? s.red(d.severity) : s.yellow(d.severity)} ${d.code} ${indent(d.message, '      ')}`);
        if (d.pointer !== '') lines.push(s.dim(`      at ${d.pointer}`));
      }
      continue;
    }
    for (const test of file.tests) {
      const ran = test.run.status === undefined ? '' : s.dim(` (${test.run.status} after ${duration(test.run.fakeMs ?? 0)} of fake time)`);
      lines.push(`  ${test.status === 'passed' ? s.green('✓') : s.red('✗')} ${test.name}${ran}`);
    }
  }
  const failed = report.files.flatMap((file) => file.tests.filter((t) => t.status === 'failed').map((test) => ({ file, test })));
  if (failed.length > 0) lines.push('', s.bold('Failures'));
  failed.forEach(({ file, test }, i) => {
    lines.push('', s.red(`${i + 1}) ${file.path} › ${test.name}`));
    // A node's history is shown once per test, under the first failure it explains.
    const shown = new Set<string>();
    for (const failure of test.failures) {
      lines.push(`   ${s.bold(failure.expectation)} ${s.dim(`(${file.path}:${failure.line}:${failure.column})`)}`);
      lines.push(`     ${indent(failure.message, '     ')}`);
      for (const detail of failure.details ?? []) lines.push(s.dim(`     ${detail}`));
      const key = failure.node === undefined ? '' : `${failure.node.run} ${failure.node.id}`;
      if (failure.history !== undefined && failure.node !== undefined && !shown.has(key)) {
        shown.add(key);
        lines.push(`     history of node "${failure.node.id}"${failure.node.run ? ` in sub-flow run ${failure.node.run}` : ''}:`);
        for (const entry of failure.history) lines.push(s.dim(`       ${entry}`));
      }
    }
  });
  lines.push('', summary(report, s));
  return `${lines.join('\n')}\n`;
}

/** `2 files, 9 tests: 8 passed, 1 failed`, and invalid files. */
export function summary(report: TestReport, s: ReportStyle = PLAIN): string {
  const files = report.files.length;
  const tests = report.passed + report.failed;
  const parts = [s.green(`${report.passed} passed`), ...(report.failed > 0 ? [s.red(`${report.failed} failed`)] : []), ...(report.invalid > 0 ? [s.red(`${plural(report.invalid, 'invalid file')}`)] : [])];
  return `${plural(files, 'file')}, ${plural(tests, 'test')}: ${parts.join(', ')}`;
}

function indent(text: string, prefix: string): string {
  return text.split('\n').join(`\n${prefix}`);
}
