import { describe, expect, it } from 'vitest';
import { loadTestFile } from './load.js';
import { temporaryFolders } from './test-kit.js';

const folder = temporaryFolders();

const FLOW = JSON.stringify({
  name: 'Review',
  nodes: [
    { id: 'review', type: 'agent', data: { agent: 'reviewer', task: 'review' } },
    { id: 'post', type: 'external_api', data: { service: 'github', action: 'create_pr_review' } },
    { id: 'sign_off', type: 'human_approval', data: { approvers: ['lead'], timeout: 60 } },
  ],
  edges: [
    { from: 'review', to: 'post' },
    { from: 'post', to: 'sign_off' },
  ],
});

/** code line:column message, for every diagnostic of the file. */
async function diagnostics(text: string, files: Record<string, string> = {}): Promise<string[]> {
  const dir = folder({ 'review.json': FLOW, 'review.test.json': text, ...files });
  const loaded = await loadTestFile('review.test.json', dir);
  expect(loaded.ok).toBe(false);
  return loaded.diagnostics.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`);
}

describe('a flow test file is checked like a flow', () => {
  it('reports JSON syntax errors at their line and column', async () => {
    expect(await diagnostics('{\n  "flow": "review.json",\n  "tests": [}\n}')).toEqual(['JSON_SYNTAX 3:13 expected a value', 'JSON_SYNTAX 4:2 expected ] to close the array']);
  });

  it('reports schema problems with the test named, did-you-mean for unknown keys', async () => {
    const text = `{
  "flow": "review.json",
  "tests": [
    { "name": "t", "expct": { "status": "succeeded" } }
  ]
}`;
    expect(await diagnostics(text)).toEqual([
      'MISSING_KEY 4:5 test "t": missing required key "expect"',
      'UNKNOWN_KEY 4:20 test "t": unknown key "expct" — did you mean "expect"? (allowed: name, description, params, trigger, initiator, agents, connectors, functions, approvals, expect, or an x- key)',
    ]);
  });

  it('checks every name against what the flow does, with the name it probably meant', async () => {
    const text = `{
  "flow": "review.json",
  "agents": { "reveiwer": { "review": { "result": {} } }, "reviewer": { "reveiw": { "result": {} } } },
  "connectors": { "gitub": { "create_pr_review": { "result": {} } }, "github": { "create_review": { "result": {} } } },
  "approvals": [{ "node": "signoff", "principal": "lead", "decision": "approve" }, { "node": "post", "principal": "lead", "decision": "approve" }],
  "tests": [
    {
      "name": "t",
      "expect": {
        "ran": ["reveiw"],
        "nodes": { "posst": { "status": "succeeded" } },
        "calls": [{ "agent": "reviewer", "task": "reviw" }, { "function": "score" }, { "connector": "github", "task": "x" }]
      }
    }
  ]
}`;
    expect(await diagnostics(text)).toEqual([
      'UNCALLED_AGENT 3:15 no flow of this test calls agent "reveiwer" — did you mean "reviewer"?',
      'UNCALLED_TASK 3:73 the flows never ask agent "reviewer" for task "reveiw" — did you mean "review"? (they ask for review)',
      'UNCALLED_SERVICE 4:19 no external_api node of the flows calls service "gitub" — did you mean "github"?',
      'UNCALLED_SERVICE 4:82 no external_api node of the flows calls action "create_review" of service "github" — did you mean "create_pr_review"? (they call create_pr_review)',
      'UNKNOWN_NODE 5:27 no node "signoff" in flow "Review" or a flow it reaches — did you mean "sign_off"?',
      'NOT_AN_APPROVAL 5:94 node "post" is a external_api node, not a human_approval node',
      'UNKNOWN_NODE 10:17 no node "reveiw" in flow "Review" — did you mean "review"?',
      'UNKNOWN_NODE 11:20 no node "posst" in flow "Review" — did you mean "post"?',
      'UNCALLED_TASK 12:50 the flows never ask agent "reviewer" for task "reviw" — did you mean "review"? (they ask for review)',
      'UNCALLED_FUNCTION 12:75 no function node of the flows calls function "score"',
      'BAD_CALL_PATTERN 12:86 a call of a connector has no "task" (an agent has task and inputs, a connector action and params, a function input)',
    ]);
  });

  it('refuses replies with neither or both of result and error, unknown error codes and duplicate test names', async () => {
    const text = `{
  "flow": "review.json",
  "agents": { "reviewer": { "review": [{ "times": 2 }, { "result": {}, "error": { "message": "x" } }] } },
  "connectors": { "github": { "create_pr_review": { "error": { "message": "502", "code": "CONECTOR_FAILED" } } } },
  "tests": [{ "name": "t", "expect": {} }, { "name": "t", "expect": {} }]
}`;
    expect(await diagnostics(text)).toEqual([
      'BAD_REPLY 3:40 a reply needs "result" (the call succeeds) or "error" (it fails)',
      'BAD_REPLY 3:56 a reply has both "result" (the call succeeds) and "error" (it fails): keep one',
      'UNKNOWN_ERROR_CODE 4:90 unknown error code "CONECTOR_FAILED" — did you mean "CONNECTOR_FAILED"? (the codes are those of packages/engine/src/errors.ts)',
      'DUPLICATE_TEST_NAME 5:54 test #1 has the name of test #0, "t": names tell tests apart in reports',
    ]);
  });

  it('names the flow that cannot be read, and lists the diagnostics of one that is invalid with its own lines', async () => {
    expect(await diagnostics('{ "flow": "nowhere.json", "tests": [{ "name": "t", "expect": {} }] }')).toEqual(['FILE_NOT_FOUND 1:11 cannot read the flow nowhere.json: no such file']);
    const invalid = '{\n  "name": "Bad",\n  "nodes": [{ "id": "a", "type": "agnt", "data": {} }]\n}';
    expect(await diagnostics('{ "flow": "bad.json", "tests": [{ "name": "t", "expect": {} }] }', { 'bad.json': invalid })).toEqual([
      'FILE_INVALID 1:11 the flow bad.json does not validate:\n  bad.json:3:34 UNKNOWN_NODE_TYPE node "a" (agnt), type: unknown node type "agnt" (string) — did you mean "agent"?; the types are "webhook", "function", "conditional", "parallel", "agent", "human_approval", "external_api", "wait", "subflow", "schedule"',
    ]);
  });

  it('wants a configuration that maps a task to a flow before the task can run as one, and a module for `use`', async () => {
    const config = JSON.stringify({ agents: { reviewer: { transport: 'http', url: 'http://127.0.0.1:9/review', flows: { lint: './lint.json' } } } });
    const noConfig = '{ "flow": "review.json", "agents": { "reviewer": { "review": "flow" } }, "tests": [{ "name": "t", "expect": {} }] }';
    expect(await diagnostics(noConfig)).toEqual([
      'NO_TASK_FLOW 1:62 task "review" of agent "reviewer" is to run as a flow, but the file names no configuration ("config") to say which',
    ]);
    const unmapped = '{ "flow": "review.json", "config": "gantry.config.json", "use": { "agents": ["reviewer"] }, "agents": { "reviewer": { "review": "flow" } }, "tests": [{ "name": "t", "expect": {} }] }';
    expect(await diagnostics(unmapped, { 'gantry.config.json': config })).toEqual([
      'NOT_USABLE 1:78 agent "reviewer" cannot be used as it is: its transport is http: script its tasks instead (only module agents run in a test)',
      'NO_TASK_FLOW 1:129 the configuration maps no flow to task "review" of agent "reviewer" (it maps lint)',
    ]);
  });
});
