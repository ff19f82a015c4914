export { runTestFiles, runTestFile } from './run-tests.js';
export type { RunTestsOptions, TestReport, FileResult, TestResult, ReportedFailure } from './run-tests.js';
export { loadTestFile, testFileSchema } from './load.js';
export type { LoadedTestFile, TestDiagnostic } from './load.js';
export { findTestFiles } from './discover.js';
export { formatReport, summary } from './report.js';
export type { ReportStyle } from './report.js';
export { junitReport } from './junit.js';
export { TEST_DIAGNOSTIC_CODES } from './codes.js';
export type { TestDiagnosticCode } from './codes.js';
export type { CallRecord } from './calls.js';
export type { NotificationRecord } from './world.js';
export type { Failure } from './expect.js';
export type {
  TestFile,
  TestCase,
  AgentScript,
  AgentReplyScript,
  CallScript,
  CallReplyScript,
  Approval,
  Expectations,
  NodeExpectation,
  CallPattern,
  ErrorPattern,
  NotificationPattern,
} from './test-file.js';
