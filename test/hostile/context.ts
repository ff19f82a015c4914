/**
 * One case's run: its workspace, stand-ins and servers, the bystander runs, what it measured and
 * the problems found; and the checks shared by the drivers.
 */
import { openSqliteStore } from '@gantry/store-sqlite';
import type { CaseContext, Expect, HostileCase } from './case.js';
import { CANARY_ENV, describeLeaks, dumpDatabase, leaksIn, leaksInFiles, storeBytes, type Leak } from './canaries.js';
import { cli, ending, startServe, Workspace, type Exited, type Served } from './processes.js';
import { deliver, pollRun, probeHealth, sha256, OPERATOR_TOKEN, type HealthFigures } from './probes.js';
import { attacker, hostileService, type StandIn } from './services.js';

/**
 * `GET /health` while the hostile work runs (probed for at least `minWindowMs` and `minSamples`
 * probes): the median within 100 ms, as issue 15 asks, and no probe over a second. A loaded
 * machine delays a probe now and then, not the median; a server kept busy by the hostile work
 * cannot keep its median down, and a frozen one fails the maximum. Both limits are raised by the
 * idle server's median latency measured just before (a few ms on a quiet machine), so that a
 * machine loaded by others does not fail a case. The figures are printed whatever they are.
 */
export const HEALTH_RULE = Object.freeze({ medianMs: 100, maxMs: 1_000, minWindowMs: 300, minSamples: 5 });

/** The configuration every case starts from: the webhook secret declared, an operator to read the API, loopback allowed out. */
export function baseConfig(): object {
  return {
    credentials: { github_webhook_secret: { env: 'GITHUB_WEBHOOK_SECRET' } },
    principals: { operator: { roles: ['operator'], token_sha256: sha256(OPERATOR_TOKEN) } },
    // The stand-ins listen on loopback: the address guard lets them through, so that only the
    // credential rules can stop a leak.
    outbound: { allow: ['127.0.0.1'], max_attempts: 1 },
  };
}

const BYSTANDER_WAIT = {
  name: 'Bystander waiting',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/bystander/wait', authentication: 'github_webhook_secret' } },
    { id: 'approval', type: 'human_approval', data: { approvers: ['release-manager'], timeout: 86_400 } },
  ],
  edges: [{ from: 'hook', to: 'approval' }],
};
const BYSTANDER_DONE = {
  name: 'Bystander done',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/bystander/done', authentication: 'github_webhook_secret' } },
    { id: 'pause', type: 'wait', data: { seconds: 0 }, output: { ref: '{% $trigger.ref %}' } },
  ],
  edges: [{ from: 'hook', to: 'pause' }],
};

/** The hostile endpoint of a case that names no flow: the HTTP edge's cases send it their bodies. */
const DEFAULT_FLOW = {
  name: 'Hostile endpoint',
  nodes: [
    { id: 'hook', type: 'webhook', data: { endpoint: '/hostile', authentication: 'github_webhook_secret' } },
    { id: 'pause', type: 'wait', data: { seconds: 0 } },
  ],
  edges: [{ from: 'hook', to: 'pause' }],
};

export function deepMerge(base: any, over: any): any {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function substitute(text: string, stands: { attacker?: StandIn; service?: StandIn }): string {
  return text.replaceAll('%ATTACKER%', stands.attacker?.url ?? 'http://127.0.0.1:9').replaceAll('%SERVICE%', stands.service?.url ?? 'http://127.0.0.1:9');
}

interface Snapshot {
  readonly status: string | undefined;
  /** The journal, as JSON text per event. */
  readonly events: readonly string[];
}

function snapshot(ws: Workspace, runIds: readonly string[]): Record<string, Snapshot> {
  const store = openSqliteStore(ws.storePath, { mode: 'read' });
  try {
    return Object.fromEntries(runIds.map((id) => [id, { status: store.getRun(id)?.status, events: store.events(id).map((e) => JSON.stringify(e)) }]));
  } finally {
    store.close();
  }
}

export interface CaseReport {
  readonly id: string;
  readonly item: string;
  readonly via: string;
  readonly budgetMs: number;
  /** The whole case: set-up, hostile work, checks. */
  caseMs?: number;
  refusalMs?: number;
  refusal?: string;
  serverMs?: number;
  health?: HealthFigures;
  readonly problems: string[];
  readonly notes: string[];
}

export class Run implements CaseContext {
  readonly ws = new Workspace();
  attacker: StandIn | undefined;
  service: StandIn | undefined;
  readonly answers: string[] = [];
  readonly outputs: string[] = [];
  readonly servers: Served[] = [];
  bystanderIds: string[] = [];
  before: Record<string, Snapshot> = {};
  readonly report: CaseReport;

  constructor(readonly c: HostileCase) {
    this.report = { id: c.id, item: c.item, via: c.via, budgetMs: c.expect.budgetMs, problems: [], notes: [] };
  }

  get e(): Expect {
    return this.c.expect;
  }

  /** From the start of the hostile work, when it must be over. */
  deadline(start: number): number {
    return start + 2 * this.e.budgetMs;
  }

  problem(text: string): void {
    this.report.problems.push(text);
  }
  note(text: string): void {
    this.report.notes.push(text);
  }
  refused(ms: number, what: string): void {
    this.report.refusalMs = Math.round(ms);
    this.report.refusal = what;
    if (ms > 2 * this.e.budgetMs) this.problem(`${what} after ${Math.round(ms)} ms, over twice the budget of ${this.e.budgetMs} ms`);
  }
  serverTime(ms: number): void {
    this.report.serverMs = Math.round(ms);
  }
  health(figures: HealthFigures): void {
    this.report.health = figures;
    const f = (n: number) => Math.round(n);
    const idle = figures.idleP50 ?? 0;
    const median = HEALTH_RULE.medianMs + idle;
    const max = HEALTH_RULE.maxMs + idle;
    const when = `while the hostile work ran${idle >= 1 ? ` (idle median ${f(idle)} ms)` : ''}`;
    if (figures.failed > 0) this.problem(`/health: ${figures.failed} of ${figures.samples} probes unanswered or not 200 (statuses ${figures.statuses.join(', ')}; max ${f(figures.max)} ms)`);
    if (figures.p50 > median) this.problem(`/health: median ${f(figures.p50)} ms, over ${f(median)} ms, ${when}`);
    if (figures.max > max) this.problem(`/health: a probe took ${f(figures.max)} ms, over ${f(max)} ms, ${when}`);
  }

  async watchHealth(served: Served): Promise<() => Promise<void>> {
    const probe = await probeHealth(served.url, { windowMs: HEALTH_RULE.minWindowMs, samples: HEALTH_RULE.minSamples });
    return async () => this.health({ ...(await probe.stop()), idleP50: probe.idleP50 });
  }

  async prepare(): Promise<void> {
    if (this.c.standIns) {
      this.attacker = await attacker();
      this.service = await hostileService(this.attacker.url);
    }
    const stands = { ...(this.attacker ? { attacker: this.attacker } : {}), ...(this.service ? { service: this.service } : {}) };
    const json = (value: unknown) => JSON.parse(substitute(JSON.stringify(value), stands)) as object;
    this.ws.write('gantry.config.json', json(deepMerge(baseConfig(), this.c.config ?? {})));
    this.ws.write('flows/bystander-wait.json', BYSTANDER_WAIT);
    this.ws.write('flows/bystander-done.json', BYSTANDER_DONE);
    this.ws.write('flows/hostile.json', json(this.c.flow ?? DEFAULT_FLOW));
    for (const [name, content] of Object.entries(this.c.files ?? {})) {
      if (typeof content === 'object' && '$symlink' in content) this.ws.link(name, String((content as { $symlink: string }).$symlink));
      else this.ws.write(name, typeof content === 'string' ? substitute(content, stands) : json(content));
    }
    if (this.c.payload !== undefined && this.c.via === 'run') this.ws.write('input.json', this.payloadText());
  }

  payloadText(): string {
    const text = typeof this.c.payload === 'string' ? this.c.payload : JSON.stringify(this.c.payload ?? {});
    return text.length > 100_000 ? text : substitute(text, { ...(this.attacker ? { attacker: this.attacker } : {}), ...(this.service ? { service: this.service } : {}) });
  }

  async serve(options: { env?: Record<string, string>; args?: readonly string[]; timeoutMs?: number } = {}): Promise<Served> {
    const served = await startServe(this.ws, { env: { ...this.c.env, ...options.env }, args: options.args ?? this.c.args ?? [], ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    this.servers.push(served);
    return served;
  }

  async bystanders(served: Served): Promise<void> {
    const ids: string[] = [];
    for (const [path, delivery] of [['/bystander/wait', 'bystander-wait-1'], ['/bystander/done', 'bystander-done-1']] as const) {
      const a = await deliver(served.url, path, JSON.stringify({ ref: 'refs/heads/main', sender: { login: 'octocat' } }), { delivery, log: this.answers });
      if (a.status !== 202) throw new Error(`the bystander delivery to ${path} was answered ${a.status}: ${a.text}`);
      const polled = await pollRun(served.url, a.json.run_id, Date.now(), Date.now() + 10_000, { untilWaiting: path.endsWith('wait'), log: this.answers });
      if (polled.view?.status !== (path.endsWith('wait') ? 'waiting' : 'succeeded')) throw new Error(`the bystander run ${a.json.run_id} is ${polled.view?.status}`);
      ids.push(a.json.run_id);
    }
    this.bystanderIds = ids;
    this.before = snapshot(this.ws, ids);
  }

  async serveWithBystanders(): Promise<Served | undefined> {
    const served = await this.serve();
    if (!served.url) {
      this.problem(`gantry serve did not start: ${ending(served.exit)}: ${served.stderr.slice(-500)}`);
      return undefined;
    }
    await this.bystanders(served);
    return served;
  }

  async cliBystander(): Promise<void> {
    const r = await cli(this.ws, ['run', 'flows/bystander-wait.json', '--json'], { env: { ...this.c.env } });
    const first = r.stdout.split('\n').find((l) => l.includes('"run.started"'));
    if (r.code !== 4 || first === undefined) throw new Error(`the bystander run did not wait (${ending(r)}):\n${r.stdout}\n${r.stderr}`);
    this.bystanderIds = [JSON.parse(first).runId];
    this.before = snapshot(this.ws, this.bystanderIds);
  }

  checkBystanders(): void {
    if (this.bystanderIds.length === 0) return;
    let after: Record<string, Snapshot>;
    try {
      after = snapshot(this.ws, this.bystanderIds);
    } catch (error) {
      this.problem(`the store cannot be read after the case: ${(error as Error).message}`);
      return;
    }
    // Intact: the same status, and the journal as it was (a restart may append its resumption).
    for (const id of this.bystanderIds) {
      const was = this.before[id]!;
      const now = after[id]!;
      if (now.status !== was.status) this.problem(`bystander run ${id} was ${was.status}, is ${now.status ?? 'gone'}`);
      const changed = was.events.findIndex((e, i) => now.events[i] !== e);
      if (changed >= 0) this.problem(`bystander run ${id}: its journal changed at event #${changed}: ${was.events[changed]!.slice(0, 200)} → ${(now.events[changed] ?? 'missing').slice(0, 200)}`);
      else if (now.events.length > was.events.length) this.note(`bystander ${id} gained ${now.events.length - was.events.length} events (${[...new Set(now.events.slice(was.events.length).map((e) => JSON.parse(e).type))].join(', ')})`);
    }
  }

  /** The canary scan and the `never` patterns, over everything the case saw and left. */
  scan(): void {
    const leaks: Leak[] = [];
    this.servers.forEach((s, i) => leaks.push(...leaksIn(`serve #${i + 1} stdout`, s.stdout), ...leaksIn(`serve #${i + 1} stderr (logs)`, s.stderr)));
    this.outputs.forEach((o, i) => leaks.push(...leaksIn(`CLI output #${i + 1}`, o)));
    leaks.push(...leaksIn('API answers', this.answers.join('\n')));
    leaks.push(...leaksInFiles(this.ws.dir, this.ws.written));
    if (leaks.length > 0) this.problem(`canary leaked: ${describeLeaks(leaks)}`);
    if (this.attacker) {
      const got = leaksIn('the attacker', this.attacker.requests.map((r) => `${r.url}\n${JSON.stringify(r.headers)}\n${r.text}`).join('\n'));
      if (got.length > 0) this.problem(`exfiltrated to the attacker: ${[...new Set(got.map((l) => l.variable))].join(', ')}`);
      if (this.e.attackerUntouched && this.attacker.requests.length > 0) this.problem(`the attacker received ${this.attacker.requests.length} request(s): ${this.attacker.requests.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    }
    if (this.e.serviceGot) {
      const secret = CANARY_ENV[this.e.serviceGot]!;
      if (!this.service?.requests.some((r) => JSON.stringify(r.headers).includes(secret) || r.text.includes(secret))) this.problem(`the configured service never received ${this.e.serviceGot}: the case proves nothing`);
    }
    if (this.e.never) {
      const db = this.ws.storePath;
      const everything = [...this.servers.flatMap((s) => [s.stdout, s.stderr]), ...this.outputs, ...this.answers, dumpDatabase(db)].join('\n');
      for (const pattern of this.e.never) if (pattern.test(everything)) this.problem(`${pattern} shows up (outputs, answers or the store)`);
    }
  }

  async finish(): Promise<void> {
    // The WAL as the server left it running, before a clean stop folds it into the database.
    const walLeaks = leaksInFiles(this.ws.dir, this.ws.written);
    if (walLeaks.length > 0) this.problem(`canary leaked while running: ${describeLeaks(walLeaks)}`);
    for (const s of this.servers) await s.stop();
    this.checkBystanders();
    if (this.e.storeBelowBytes !== undefined) {
      const bytes = storeBytes(this.ws.storePath);
      if (bytes >= this.e.storeBelowBytes) this.problem(`the store holds ${bytes} bytes, over ${this.e.storeBelowBytes}: the refused value was kept`);
    }
    this.scan();
  }

  async close(): Promise<void> {
    for (const s of this.servers) await s.kill();
    await this.attacker?.close();
    await this.service?.close();
    if (process.env.HOSTILE_KEEP !== '1') this.ws.remove();
    else this.note(`kept ${this.ws.dir}`);
  }
}

/** The codes a run view (GET /runs/:id) or a run.finished event reports: the run's error, and every failed node's. */
export function codesOf(view: any): string[] {
  const codes = new Set<string>();
  if (view?.error?.code) codes.add(view.error.code);
  for (const n of view?.nodes ?? []) if (n?.error?.code) codes.add(n.error.code);
  return [...codes];
}

function wanted(code: string | readonly string[] | undefined): readonly string[] | undefined {
  return code === undefined ? undefined : typeof code === 'string' ? [code] : code;
}

/** Checks a run's end against `expect.run`. */
export function checkRunEnd(r: Pick<CaseContext, 'problem'>, e: Expect, status: string | undefined, codes: readonly string[], message = ''): void {
  if (!e.run) return;
  const statuses = wanted(e.run.status)!;
  if (status === undefined || !statuses.includes(status)) r.problem(`the run ended ${status ?? 'never (within the cut-off)'}${codes.length ? ` (${codes.join(', ')})` : ''}, expected ${statuses.join(' or ')}${e.run.code ? ` (${wanted(e.run.code)!.join(' or ')})` : ''}${message ? `: ${message.slice(0, 300)}` : ''}`);
  else if (e.run.code && !wanted(e.run.code)!.some((c) => codes.includes(c))) r.problem(`the run ended ${status} with ${codes.join(', ') || 'no code'}, expected ${wanted(e.run.code)!.join(' or ')}${message ? `: ${message.slice(0, 300)}` : ''}`);
}

export function checkExit(r: Pick<CaseContext, 'problem'>, e: Expect, x: Exited, what: string): void {
  const text = `${x.stdout}\n${x.stderr}`;
  // The end of stderr says why; stdout's last line says how the run ended.
  const tail = [...x.stderr.trim().split('\n').slice(-4), x.stdout.trim().split('\n').at(-1) ?? ''].filter(Boolean).join(' | ').slice(0, 600);
  if (x.timedOut) r.problem(`${what} did not end within ${2 * e.budgetMs} ms (killed)`);
  else if (x.signal) r.problem(`${what} was killed by ${x.signal}: ${tail}`);
  else if (x.code !== null && x.code > 4) r.problem(`${what} crashed (exit ${x.code}): ${tail}`);
  if (e.exit !== undefined && !x.timedOut) {
    const allowed = typeof e.exit === 'number' ? [e.exit] : e.exit;
    if (!allowed.includes(x.code ?? -1)) r.problem(`${what}: ${ending(x)}, expected exit ${allowed.join(' or ')}: ${tail}`);
  }
  if (e.says && !e.says.test(text)) r.problem(`${what} does not say ${e.says}: ${tail}`);
}
