import type { TestReport } from './run-tests.js';

/**
 * The report as JUnit XML, which CI systems (GitHub Actions reporters, GitLab, Jenkins, Azure)
 * read: one testsuite per file, one testcase per test, a `failure` per failed test with every
 * failed expectation and its history, an `error` for a file that did not validate. Times are
 * real seconds.
 */
export function junitReport(report: TestReport): string {
  const tests = report.passed + report.failed + report.invalid;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gantry test" tests="${tests}" failures="${report.failed}" errors="${report.invalid}" time="${seconds(report.durationMs)}">`,
  ];
  for (const file of report.files) {
    const failures = file.tests.filter((t) => t.status === 'failed').length;
    const errors = file.status === 'invalid' ? 1 : 0;
    const count = file.status === 'invalid' ? 1 : file.tests.length;
    out.push(`  <testsuite name="${attr(file.path)}" tests="${count}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds(file.durationMs)}">`);
    if (file.status === 'invalid') {
      const text = file.diagnostics.map((d) => `${file.path}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`).join('\n');
      out.push(`    <testcase name="(test file)" classname="${attr(file.path)}" file="${attr(file.path)}" time="0">`);
      out.push(`      <error type="invalid test file" message="${attr(`${file.diagnostics.length} problem${file.diagnostics.length === 1 ? '' : 's'} in the test file`)}">${text_(text)}</error>`);
      out.push('    </testcase>');
    }
    for (const test of file.tests) {
      const open = `    <testcase name="${attr(test.name)}" classname="${attr(file.path)}" file="${attr(file.path)}" time="${seconds(test.durationMs)}"`;
      if (test.status === 'passed') {
        out.push(`${open}/>`);
        continue;
      }
      const body = test.failures
        .map((f) => [`${f.expectation} (${file.path}:${f.line}:${f.column})`, `  ${f.message}`, ...(f.details ?? []).map((d) => `  ${d}`), ...(f.history ?? []).map((h) => `    ${h}`)].join('\n'))
        .join('\n\n');
      const first = test.failures[0]!;
      out.push(`${open}>`);
      out.push(`      <failure type="${attr(first.expectation)}" message="${attr(first.message)}">${text_(body)}</failure>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** XML 1.0 cannot hold most control characters, even escaped: they are dropped. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

function text_(text: string): string {
  return clean(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(text: string): string {
  return text_(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
