/**
 * The diagnostics a flow test file can get beyond its schema's (which share the flow
 * validator's codes: JSON_SYNTAX, UNKNOWN_KEY, MISSING_KEY, WRONG_TYPE, BAD_VALUE). Codes are
 * stable: tools and tests may match on them. Every one is an error: a test that names what its
 * flow never does would pass or fail for the wrong reason.
 */
export const TEST_DIAGNOSTIC_CODES = {
  FILE_NOT_FOUND: 'The flow under test, a flow it reaches, or the configuration could not be read.',
  FILE_INVALID: 'The flow under test, a flow it reaches, or the configuration does not validate; the message lists its own diagnostics.',
  UNKNOWN_NODE: 'An expectation or an approval names a node that is not in the flow (or, for approvals and calls, in a flow it reaches).',
  NOT_AN_APPROVAL: 'An approval names a node that is not a human_approval node.',
  UNCALLED_AGENT: 'A script or a call names an agent that no flow the test reaches calls.',
  UNCALLED_TASK: 'A script or a call names a task that the flows never ask of that agent.',
  UNCALLED_SERVICE: 'A script or a call names a service or an action that no external_api node of the flows calls.',
  UNCALLED_FUNCTION: 'A script or a call names a function that no function node of the flows calls.',
  NO_TASK_FLOW: 'A task\'s script is "flow", but the configuration maps no flow to that task (or the file names no configuration).',
  NOT_USABLE: '`use` names an agent or a function the configuration does not define as an ES module.',
  BAD_REPLY: 'A scripted reply has neither or both of result and error.',
  BAD_CALL_PATTERN: 'A call pattern names none or more than one of agent, connector and function, or lacks its task or action.',
  UNKNOWN_ERROR_CODE: 'A scripted error code is not one of Gantry\'s error codes.',
  DUPLICATE_TEST_NAME: 'Two tests of the file share a name.',
} as const satisfies Record<string, string>;

export type TestDiagnosticCode = keyof typeof TEST_DIAGNOSTIC_CODES;
