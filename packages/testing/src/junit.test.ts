import { describe, expect, it } from 'vitest';
import { junitReport } from './junit.js';
import type { TestReport } from './run-tests.js';

const failure = { pointer: '/tests/1/expect/status', expectation: 'expect.status', line: 9, column: 7, message: 'the run ended <failed> & "stopped"\u0007', history: ['+0s       attempt 1 failed'], node: { run: '', id: 'a' } };
const report: TestReport = {
  passed: 1,
  failed: 1,
  invalid: 1,
  durationMs: 1234,
  files: [
    {
      path: 'flows/tests/a.test.json',
      flow: 'A',
      status: 'failed',
      diagnostics: [],
      durationMs: 1000,
      tests: [
        { name: 'passes', status: 'passed', failures: [], run: { status: 'succeeded', fakeMs: 0 }, calls: [], notifications: [], durationMs: 12 },
        { name: 'fails <1>', status: 'failed', failures: [failure], run: { status: 'failed', fakeMs: 0 }, calls: [], notifications: [], durationMs: 30 },
      ],
    },
    {
      path: 'flows/tests/b.test.json',
      flow: undefined,
      status: 'invalid',
      diagnostics: [{ code: 'UNKNOWN_KEY', severity: 'error', pointer: '/flw', line: 2, column: 3, message: 'unknown key "flw"' }],
      tests: [],
      durationMs: 2,
    },
  ],
};

describe('junitReport', () => {
  it('writes a testsuite per file, a testcase per test, a failure with every expectation and history, an error for an invalid file', () => {
    expect(junitReport(report)).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="gantry test" tests="3" failures="1" errors="1" time="1.234">
  <testsuite name="flows/tests/a.test.json" tests="2" failures="1" errors="0" skipped="0" time="1.000">
    <testcase name="passes" classname="flows/tests/a.test.json" file="flows/tests/a.test.json" time="0.012"/>
    <testcase name="fails &lt;1&gt;" classname="flows/tests/a.test.json" file="flows/tests/a.test.json" time="0.030">
      <failure type="expect.status" message="the run ended &lt;failed&gt; &amp; &quot;stopped&quot;">expect.status (flows/tests/a.test.json:9:7)
  the run ended &lt;failed&gt; &amp; "stopped"
    +0s       attempt 1 failed</failure>
    </testcase>
  </testsuite>
  <testsuite name="flows/tests/b.test.json" tests="1" failures="0" errors="1" skipped="0" time="0.002">
    <testcase name="(test file)" classname="flows/tests/b.test.json" file="flows/tests/b.test.json" time="0">
      <error type="invalid test file" message="1 problem in the test file">flows/tests/b.test.json:2:3 error UNKNOWN_KEY unknown key "flw"</error>
    </testcase>
  </testsuite>
</testsuites>
`);
  });
});
