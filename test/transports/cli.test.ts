/**
 * The transports and connectors as a user configures them: `gantry run` with http, command and
 * llm agents and the prometheus and http connectors in gantry.config.json, against stand-in
 * services on loopback, credentials in the environment. The canary credential must reach the
 * services and never show in what the command prints, `gantry show --json` included.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain, gantry, runIdOf, Workspace, type GantryResult } from '../e2e/harness.js';

const CANARY = `canary-${process.pid}-b3f1a9e0-cli`;

let server: Server;
let base = '';
const auth: Record<string, string[]> = {};
let ws: Workspace;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      (auth[path] ??= []).push(String(req.headers.authorization ?? ''));
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      if (path === '/tasks' && req.method === 'POST') return send(202, { status: 'accepted' }, { location: '/tasks/1' });
      if (path === '/tasks/1') return send(200, { status: 'succeeded', result: { score: 9, seen_auth: req.headers.authorization }, metrics: { review_ms: 5 } });
      if (path === '/v1/chat/completions') {
        const envelope = JSON.parse(JSON.parse(body).messages[1].content);
        return send(200, { choices: [{ message: { role: 'assistant', content: JSON.stringify({ notes: `release ${envelope.inputs.version}` }) }, finish_reason: 'stop' }] });
      }
      if (path === '/api/v1/query') return send(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.012'] }] } });
      if (path === '/hook') return send(401, { error: `refused ${req.headers.authorization}` });
      send(404, {});
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ws = new Workspace();
  ws.write('scan.mjs', `process.stdin.resume(); process.stdin.on('end', () => console.log(JSON.stringify({ findings: 0, has_scan_token: process.env.SCAN_TOKEN !== undefined, has_reviewer_token: process.env.REVIEWER_TOKEN !== undefined, has_github_token: process.env.GITHUB_TOKEN !== undefined })));`);
  ws.write('gantry.config.json', {
    agents: {
      reviewer: { transport: 'http', url: `${base}/tasks`, authentication: 'reviewer_token', poll_interval_ms: 20 },
      scanner: { transport: 'command', command: process.execPath, args: ['scan.mjs'], authentication: 'scan_token' },
      writer: { transport: 'llm', base_url: `${base}/v1`, model: 'llama3.2', authentication: 'openai_key', role: 'You write release notes.' },
    },
    connectors: { prometheus: { base_url: base } },
    credentials: {
      reviewer_token: { env: 'REVIEWER_TOKEN' },
      scan_token: { env: 'SCAN_TOKEN' },
      openai_key: { env: 'OPENAI_KEY' },
      // A flow's http node sends it: where to is said here.
      hook_token: { env: 'HOOK_TOKEN', origins: [base] },
    },
    outbound: { allow: ['127.0.0.1'], max_attempts: 1 },
  });
  ws.write('flow.json', {
    name: 'Transports',
    nodes: [
      { id: 'review', type: 'agent', data: { agent: 'reviewer', task: 'code_review', inputs: { pr: 7 } } },
      { id: 'scan', type: 'agent', data: { agent: 'scanner', task: 'scan' } },
      { id: 'notes', type: 'agent', data: { agent: 'writer', task: 'release_notes', inputs: { version: '2.1' } } },
      { id: 'error_rate', type: 'external_api', data: { service: 'prometheus', action: 'query', query: 'sum(rate(errors[5m]))' } },
      { id: 'gate', type: 'conditional', data: { conditions: [{ metric: 'value', operator: '<', value: 0.05 }] } },
      { id: 'hook', type: 'external_api', data: { service: 'http', action: 'post', url: `${base}/hook`, authentication: 'hook_token', body: {} } },
      { id: 'metadata', type: 'external_api', data: { service: 'http', action: 'get', url: 'http://169.254.169.254/latest/meta-data/' } },
      { id: 'handled', type: 'wait', data: { seconds: 0 } },
    ],
    edges: [
      { from: 'error_rate', to: 'gate' },
      { from: 'hook', to: 'handled', condition: 'error' },
      { from: 'metadata', to: 'handled', condition: 'error' },
    ],
  });
});

afterAll(() => {
  server.close();
  ws.remove();
});

const env = { REVIEWER_TOKEN: CANARY, SCAN_TOKEN: CANARY, OPENAI_KEY: CANARY, HOOK_TOKEN: CANARY, GITHUB_TOKEN: CANARY };

describe('gantry run with http, command and llm agents and the prometheus and http connectors', () => {
  let run: GantryResult;
  let show: GantryResult;

  beforeAll(async () => {
    run = await gantry(['run', 'flow.json', '--json'], { cwd: ws.dir, env });
    show = await gantry(['show', runIdOf(run), '--json'], { cwd: ws.dir, env });
  }, 60_000);

  it('runs every node as configured', () => {
    expect(run.code, explain(run)).toBe(0);
    const outputs = Object.fromEntries(run.events.filter((e) => e.type === 'node.succeeded').map((e) => [e.nodeId, e.output]));
    expect(outputs.review).toEqual({ score: 9, seen_auth: 'Bearer [REDACTED]', review_ms: 5 });
    expect(outputs.scan).toEqual({ findings: 0, has_scan_token: true, has_reviewer_token: false, has_github_token: false });
    expect(outputs.notes).toEqual({ notes: 'release 2.1' });
    expect(outputs.error_rate).toMatchObject({ result_type: 'vector', value: 0.012 });
    expect(outputs.gate).toMatchObject({ outcome: 'pass' });
  });

  it('refuses a metadata address from flow data even with loopback allowed, and says why', () => {
    const failed = run.events.find((e) => e.type === 'node.failed' && e.nodeId === 'metadata') as { error?: { code: string; message: string } } | undefined;
    expect(failed?.error).toMatchObject({ code: 'OUTBOUND_REFUSED' });
    expect(failed?.error?.message).toContain('169.254.169.254 is a cloud metadata service');
  });

  it('sends the credentials to the services, and prints them nowhere', () => {
    expect(auth['/tasks']).toEqual([`Bearer ${CANARY}`]);
    expect(auth['/tasks/1']).toEqual([`Bearer ${CANARY}`]);
    expect(auth['/v1/chat/completions']).toEqual([`Bearer ${CANARY}`]);
    expect(auth['/hook']).toEqual([`Bearer ${CANARY}`]);
    expect(auth['/api/v1/query']).toEqual(['']);
    const hook = run.events.find((e) => e.type === 'node.failed' && e.nodeId === 'hook') as { error?: { message: string } } | undefined;
    expect(hook?.error?.message).toContain('refused Bearer [REDACTED]');
    expect(show.code, explain(show)).toBe(0);
    for (const result of [run, show]) {
      expect(result.stdout).not.toContain(CANARY);
      expect(result.stderr).not.toContain(CANARY);
    }
    expect(show.stdout).toContain('Bearer [REDACTED]');
  });
});
