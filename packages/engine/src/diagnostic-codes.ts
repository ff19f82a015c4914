/**
 * Every diagnostic the validator can report, with its severity and the sentence that documents
 * it. Codes are stable: tools and tests may match on them.
 */
export const DIAGNOSTIC_CODES = {
  JSON_SYNTAX: { severity: 'error', doc: 'The file is not valid JSON (comments and trailing commas are not allowed).' },
  UNKNOWN_KEY: { severity: 'error', doc: 'A key the schema does not define; usually a typo. Keys starting with x- are always allowed.' },
  MISSING_KEY: { severity: 'error', doc: 'A required key is absent.' },
  WRONG_TYPE: { severity: 'error', doc: 'A value has the wrong JSON type.' },
  BAD_VALUE: { severity: 'error', doc: 'A value has the right type but is out of range, not one of the allowed values, or inconsistent with its siblings.' },
  BAD_OPERATOR: { severity: 'error', doc: 'A gate condition uses an operator Gantry does not know.' },
  UNKNOWN_NODE_TYPE: { severity: 'error', doc: 'A node\'s type is not one of the registered node types.' },
  DUPLICATE_NODE_ID: { severity: 'error', doc: 'Two nodes share an id.' },
  EDGE_UNKNOWN_NODE: { severity: 'error', doc: 'An edge\'s from or to names no node.' },
  DUPLICATE_EDGE: { severity: 'warning', doc: 'The same edge (from, to, condition) is listed twice.' },
  GRAPH_CYCLE: { severity: 'error', doc: 'Edges form a cycle; the message names the nodes on it.' },
  NO_START_NODE: { severity: 'error', doc: 'Every node has an incoming edge, so nothing can start.' },
  WEBHOOK_NOT_START: { severity: 'error', doc: 'A webhook node has incoming edges; a trigger must be a start node.' },
  SCHEDULE_NOT_START: { severity: 'error', doc: 'A schedule node has incoming edges; a trigger must be a start node.' },
  BAD_SCHEDULE: { severity: 'error', doc: 'A schedule node needs exactly one of cron (5 fields, or 6 with seconds) and interval (whole seconds ≥ 1), a time zone the runtime knows, and start_at/end_at as ISO 8601 date-times with end_at not before start_at; the message names the field.' },
  UNREACHABLE_NODE: { severity: 'warning', doc: 'A node that no run can reach from the flow\'s trigger (or start nodes).' },
  IMPOSSIBLE_CONDITION: { severity: 'error', doc: 'An edge condition is a label its source node can never produce.' },
  MIXED_CONDITIONS: { severity: 'error', doc: 'A conditional mixes the gate form (metric/operator/value) and the router form (if/then).' },
  HANDLER_UNKNOWN_STAGE: { severity: 'error', doc: 'An error handler\'s stage names no node.' },
  DUPLICATE_HANDLER: { severity: 'error', doc: 'Two error handlers name the same stage.' },
  DUPLICATE_AGENT: { severity: 'error', doc: 'A parallel node lists the same agent twice; its results are keyed by agent, so one would hide the other.' },
  EXPRESSION_SYNTAX: { severity: 'error', doc: 'A {% … %} expression does not parse as JSONata.' },
  REGEX_UNSUPPORTED: { severity: 'error', doc: 'A regular expression (a regex literal in an expression, a gate\'s matches value) uses a feature the linear-time engine (RE2 semantics) cannot run: a backreference, a lookahead or lookbehind, …; the message names the pattern and the feature.' },
  EXPRESSION_NOT_WHOLE: { severity: 'warning', doc: 'A string contains {% but is not wholly an expression, so it is taken literally.' },
  UNKNOWN_PARAM: { severity: 'warning', doc: 'An expression reads $params.<name> that the flow does not declare.' },
  UNKNOWN_NODE_REF: { severity: 'warning', doc: 'An expression reads $nodes.<id> for an id that is not in the flow.' },
  BAD_FOR_EACH: { severity: 'error', doc: 'for_each is neither an array nor an expression.' },
  BAD_WAIT: { severity: 'error', doc: 'A wait node needs exactly one of seconds (≥ 0 or an expression) and until (an ISO 8601 date-time or an expression).' },
  CONCURRENCY_WITHOUT_FOR_EACH: { severity: 'warning', doc: 'concurrency has no effect on a node without for_each.' },
  SUBFLOW_NOT_FOUND: { severity: 'error', doc: 'A subflow node names a flow file that does not exist.' },
  FLOW_REF_OUTSIDE: {
    severity: 'error',
    doc: 'A sub-flow reference (a subflow node\'s flow, an agent\'s flows in the configuration) is an absolute path, or resolves (after .. and symbolic links) outside the folder it may name files in: the referencing flow\'s folder tree (gantry serve: the --flows folder), the configuration\'s folder tree for its agents; the file is not read.',
  },
  CREDENTIAL_UNDECLARED: {
    severity: 'error',
    doc: 'A flow (an external_api node\'s, an agent\'s or a webhook\'s authentication) or the configuration names a credential that the configuration does not declare under credentials, or names a webhook secret where a credential is sent out; reported when a configuration is known.',
  },
  UNKNOWN_AGENT: { severity: 'error', doc: 'A flow names an agent that the configuration does not define (checked when a configuration is known).' },
  UNKNOWN_TASK: { severity: 'error', doc: 'A flow names a task that its agent does not perform: the agent\'s configuration lists every task it performs (transport flow).' },
  UNKNOWN_FUNCTION: { severity: 'error', doc: 'A function node names a function that is neither built in nor in the configuration\'s functions.' },
  UNKNOWN_SERVICE: { severity: 'error', doc: 'An external_api node names a service that no connector provides (built in: http, github, slack, prometheus).' },
} as const satisfies Record<string, { severity: 'error' | 'warning'; doc: string }>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
export type Severity = 'error' | 'warning';
