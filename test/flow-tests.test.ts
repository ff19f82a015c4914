// `gantry test` as a user runs it: the built command, as a child process, on the shipped flows'
// test files, on a deliberately failing one whose report is checked word for word, and on a
// folder whose configuration points at a loopback server that must never hear from it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const FLOWS = join(ROOT, 'flows');
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function gantry(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-flow-tests-'));
  temporary.push(dir);
  return dir;
}

const shippedFlows = readdirSync(FLOWS).filter((f) => f.endsWith('.json')).sort();
const testFiles = readdirSync(join(FLOWS, 'tests')).filter((f) => f.endsWith('.test.json')).sort();

describe('the shipped flows are tested like code', () => {
  it('every shipped flow has a test file, with a happy path and the failures its flow handles', () => {
    expect(testFiles).toEqual(shippedFlows.map((f) => f.replace(/\.json$/, '.test.json')));
    for (const file of testFiles) {
      const text = readFileSync(join(FLOWS, 'tests', file), 'utf8');
      const flow = readFileSync(join(FLOWS, file.replace('.test.json', '.json')), 'utf8');
      const names = (JSON.parse(text) as { tests: { name: string }[] }).tests.map((t) => t.name);
      expect(names.some((n) => n.startsWith('happy path')), `${file} has a happy path`).toBe(true);
      expect(names.some((n) => n.startsWith('gate fails') || /gate fails/.test(n)), `${file} has a failing gate`).toBe(true);
      if (flow.includes('"rollback"')) expect(names.some((n) => /rollback|rolled back|back to blue|cleaned up/.test(n)), `${file} rolls back`).toBe(true);
      if (flow.includes('"human_approval"')) expect(names.some((n) => n.startsWith('rejection')), `${file} has a rejection`).toBe(true);
      if (/"timeout": \d/.test(flow)) expect(names.some((n) => n.startsWith('timeout')), `${file} has a timeout`).toBe(true);
    }
  });

  it('`gantry test flows/tests` runs them all on the fake clock and they pass (exit 0)', () => {
    const count = testFiles.reduce((n, file) => n + (JSON.parse(readFileSync(join(FLOWS, 'tests', file), 'utf8')) as { tests: unknown[] }).tests.length, 0);
    const started = Date.now();
    const r = gantry(['test', 'flows/tests']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`${testFiles.length} files, ${count} tests: ${count} passed`);
    expect(r.code).toBe(0);
    // Hours of bakes, approvals and timeouts on the fake clock; generous for a loaded machine.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('`gantry validate flows/` and `gantry serve --flows flows` do not mistake the test files for flows', async () => {
    const validate = gantry(['validate', 'flows/']);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(`${shippedFlows.length} flows: ${shippedFlows.length} valid, 0 invalid`);
    expect(validate.stdout).not.toContain('.test.json');

    const cwd = folder();
    const serve = spawn(process.execPath, [BIN, 'serve', '--flows', FLOWS, '--port', '0'], { cwd, env: { ...process.env, NO_COLOR: '1', GITHUB_WEBHOOK_SECRET: 'secret', GITHUB_TOKEN: 'token' } });
    let out = '';
    const exited = new Promise<number | null>((done) => serve.on('exit', done));
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`gantry serve did not listen: ${out}`)), 20_000);
      serve.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/^listening on /m.test(out)) {
          clearTimeout(timer);
          ready();
        }
      });
    });
    serve.kill('SIGTERM');
    await exited;
    expect(out).toContain(`gantry serve: ${shippedFlows.length} flows from ${FLOWS}`);
  });
});

describe('a failing flow test is reported like a test runner', () => {
  const FIXTURE = 'test/fixtures/flow-tests/deliberately-failing.json';

  it('names each failed expectation, where it is written, what happened instead and the node\'s history (exit 1)', () => {
    const r = gantry(['test', FIXTURE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`test/fixtures/flow-tests/deliberately-failing.json (Blue-Green Traffic Step)
  ✓ passes: a 7.5% error rate fails the gate and rolls the step back (rolled_back after 5m 0s of fake time)
  ✗ fails: expects green to be kept at a 7.5% error rate (rolled_back after 5m 0s of fake time)
  ✗ fails: half the traffic, and no reply scripted for it (cancelled after 5m 0s of fake time)

Failures

1) test/fixtures/flow-tests/deliberately-failing.json › fails: expects green to be kept at a 7.5% error rate
   expect.status (test/fixtures/flow-tests/deliberately-failing.json:24:19)
     the run ended rolled_back (GATE_FAILED at metrics_gate: gate "metrics_gate" failed: error_rate_percent <= 1 (was 7.5)), expected succeeded
     history of node "metrics_gate":
       +5m 0s    attempt 1 started with input {"error_rate_percent":7.5,"p95_latency_ms":140}
       +5m 0s    attempt 1 failed (GATE_FAILED): gate "metrics_gate" failed: error_rate_percent <= 1 (was 7.5)
   expect.nodes.metrics_gate.labels (test/fixtures/flow-tests/deliberately-failing.json:25:48)
     node "metrics_gate" failed (GATE_FAILED: gate "metrics_gate" failed: error_rate_percent <= 1 (was 7.5)), so it selected no label; expected ["pass"]
   expect.nodes.bake.output.waited_until (test/fixtures/flow-tests/deliberately-failing.json:25:98)
     node "bake" output.waited_until: expected "2026-01-01T00:10:00.000Z", got "2026-01-01T00:05:00.000Z"
     history of node "bake":
       +0s       attempt 1 started with input {"applied":true}
       +0s       waits until +5m 0s
       +5m 0s    attempt 1 succeeded: output {"applied":true,"waited_until":"2026-01-01T00:05:00.000Z"}
   expect.calls[2] (test/fixtures/flow-tests/deliberately-failing.json:29:11)
     agent automated-incident-responder/check_deployment_metrics was called (call 2), but not after call 3 as the listed order asks
     calls made:
       call 1: agent infrastructure-devops-manager/update_traffic_split at update_traffic_split
       call 2: agent automated-incident-responder/check_deployment_metrics at check_deployment_metrics
       call 3: agent infrastructure-devops-manager/emergency_rollback at update_traffic_split

2) test/fixtures/flow-tests/deliberately-failing.json › fails: half the traffic, and no reply scripted for it
   test (test/fixtures/flow-tests/deliberately-failing.json:34:5)
     unscripted call: agent automated-incident-responder/check_deployment_metrics at check_deployment_metrics with inputs {"deployment_id":"green-1","green_weight":50,"window_seconds":300,"metrics":["error_rate_percent","p95_latency_ms"]}: none of its replies left matches these inputs (match {"green_weight":25})
     history of node "check_deployment_metrics":
       +5m 0s    attempt 1 started with input {"applied":true,"waited_until":"2026-01-01T00:05:00.000Z"}
                   called agent automated-incident-responder/check_deployment_metrics with inputs {"deployment_id":"green-1","green_weight":50,"window_seconds":300,"metrics":["error_rate_percent","p95_latency_ms"]}
       +5m 0s    skipped (aborted)

1 file, 3 tests: 1 passed, 2 failed
`);
  });

  it('gives the same in --json, and writes a JUnit report for CI with --junit', () => {
    const dir = folder();
    const junit = join(dir, 'reports', 'junit.xml');
    mkdirSync(join(dir, 'reports'));
    const r = gantry(['test', FIXTURE, '--json', '--junit', junit]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { passed: number; failed: number; invalid: number; files: { tests: { name: string; status: string; failures: { expectation: string; line: number; column: number; history?: string[] }[] }[] }[] };
    expect([report.passed, report.failed, report.invalid]).toEqual([1, 2, 0]);
    const tests = report.files[0]!.tests;
    expect(tests.map((t) => t.status)).toEqual(['passed', 'failed', 'failed']);
    expect(tests[1]!.failures.map((f) => `${f.expectation} ${f.line}:${f.column}`)).toEqual([
      'expect.status 24:19',
      'expect.nodes.metrics_gate.labels 25:48',
      'expect.nodes.bake.output.waited_until 25:98',
      'expect.calls[2] 29:11',
    ]);
    expect(tests[1]!.failures[0]!.history).toHaveLength(2);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="gantry test" tests="3" failures="2" errors="0" time="[\d.]+">/);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml.match(/<failure type="expect\.status" message="the run ended rolled_back \(GATE_FAILED at metrics_gate: gate &quot;metrics_gate&quot; failed: error_rate_percent &lt;= 1 \(was 7\.5\)\), expected succeeded">/g)).toHaveLength(1);
    expect(xml).toContain('<failure type="test" message="unscripted call: agent automated-incident-responder/check_deployment_metrics');
  });

  it('refuses an invalid test file with the flow validator\'s diagnostics (exit 2), and runs the valid files beside it', () => {
    const dir = folder();
    writeFileSync(join(dir, 'typo.test.json'), JSON.stringify({ flow: join(FLOWS, 'traffic-step.json'), tests: [{ name: 't', expect: { status: 'succeeded', ran: ['bakke'] } }] }, null, 2));
    const r = gantry(['test', join(dir, 'typo.test.json'), 'flows/tests/traffic-step.test.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`UNKNOWN_NODE no node "bakke" in flow "Blue-Green Traffic Step" — did you mean "bake"?`);
    expect(r.stdout).toMatch(/typo\.test\.json:9:11 error UNKNOWN_NODE/);
    expect(r.stdout).toContain('at /tests/0/expect/ran/0');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('2 files, 4 tests: 4 passed, 1 invalid file');
  });
});

describe('a flow test never reaches the world it acts on', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('calls no configured agent, service or network address, and loads no configured module, unless told to use it', async () => {
    const heard: string[] = [];
    server = createServer((req, res) => {
      heard.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"succeeded","result":{"real":true}}');
    });
    await new Promise<void>((ready) => server!.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = folder();
    const marker = join(dir, 'module-loaded');
    const flow = {
      name: 'World',
      nodes: [
        { id: 'review', type: 'agent', data: { agent: 'remote', task: 'review' } },
        { id: 'local', type: 'agent', data: { agent: 'local', task: 'check' } },
        { id: 'post', type: 'external_api', data: { service: 'github', action: 'create_comment', body: 'hi' } },
        { id: 'fetch', type: 'external_api', data: { service: 'http', action: 'get', url: `${url}/data` } },
      ],
      edges: [{ from: 'review', to: 'local' }, { from: 'local', to: 'post' }, { from: 'post', to: 'fetch' }],
    };
    const config = {
      agents: { remote: { transport: 'http', url: `${url}/agent` }, local: { transport: 'module', module: './local.mjs' } },
      connectors: { github: { base_url: url } },
      outbound: { allow_private_networks: true },
    };
    const scripted = {
      flow: 'world.json',
      config: 'gantry.config.json',
      agents: { remote: { review: { result: { real: false } } }, local: { check: { result: { real: false } } } },
      connectors: { github: { create_comment: { result: { id: 1 } } }, http: { get: { result: { status: 200 } } } },
      tests: [{ name: 'scripted', expect: { status: 'succeeded', nodes: { review: { output: { real: false } }, local: { output: { real: false } } } } }],
    };
    writeFileSync(join(dir, 'world.json'), JSON.stringify(flow));
    writeFileSync(join(dir, 'gantry.config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'local.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '1');\nexport default { check: () => ({ real: true }) };\n`);
    writeFileSync(join(dir, 'world.test.json'), JSON.stringify(scripted));
    const r = await new Promise<{ code: number | null; stdout: string }>((done) => {
      // Asynchronously: the loopback server lives in this process and must stay able to answer.
      const child = spawn(process.execPath, [BIN, 'test'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('exit', (code) => done({ code, stdout }));
    });
    expect(r.stdout).toContain('1 file, 1 test: 1 passed');
    expect(r.code).toBe(0);
    expect(heard).toEqual([]);
    expect(existsSync(marker)).toBe(false);

    // `use` takes the module agent as it is: then it runs for real.
    writeFileSync(join(dir, 'world.test.json'), JSON.stringify({ ...scripted, use: { agents: ['local'] }, tests: [{ name: 'used', expect: { nodes: { local: { output: { real: true } } } } }] }));
    const used = gantry(['test'], dir);
    expect(used.stdout).toContain('1 file, 1 test: 1 passed');
    expect(existsSync(marker)).toBe(true);
    expect(heard).toEqual([]);
  });
});
