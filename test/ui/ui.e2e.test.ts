// The web UI in real Chromium against a real `gantry serve` (--host 0.0.0.0, behind the path
// prefix /gantry) running the shipped deployment pipeline with the local agent pack: runs appear
// live, nodes change state on the page, two principals approve in two browsers, the traffic bar
// reaches 100 %, the faulty release rolls back, and every refusal is the server's, in words.
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TOKENS, api, axeProblems, deliver, findChromium, launch, screenshotDir, signedIn, startServe, watchErrors, type Serve } from './harness.js';

const chromium = findChromium();
if (chromium.path === undefined) console.warn(`test/ui: the web UI's browser tests are skipped: ${chromium.reason}`);

const example = (name: string) => JSON.parse(readFileSync(join(ROOT, 'packages/agents-local/examples', name), 'utf8')) as object;
const shots = screenshotDir();

describe.skipIf(chromium.path === undefined)('the web UI in Chromium', () => {
  let serve: Serve;
  let browser: Browser;
  let alice: Page;
  const errors: string[] = [];
  let runId: string;

  beforeAll(async () => {
    [serve, browser] = await Promise.all([startServe({ bakeSeconds: 1, basePath: '/gantry' }), launch(chromium.path!)]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  }, 30_000);

  const state = (page: Page, node: string) => page.locator(`[data-node="${node}"]`).getAttribute('data-state');
  const axe = async (page: Page, where: string) => expect(await axeProblems(page), `axe on ${where}`).toEqual([]);

  it('refuses a wrong token with the server\'s sentence, then signs in; the list is served under the prefix with a strict CSP', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    watchErrors(page, errors);
    const response = await page.goto(`${serve.url}/ui/`);
    expect(response!.headers()['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self'/);
    await axe(page, 'the sign-in page');
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^The server does not know this token \(401 UNAUTHORIZED\)\. The bearer token is no principal's/);
    await page.getByLabel('API token').fill(TOKENS.alice);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    expect(await page.getByText('Signed in as alice').count()).toBe(1);
    // The token is in this tab's sessionStorage, nowhere else.
    expect(await page.evaluate(() => [sessionStorage.getItem('gantry.token'), localStorage.length, document.cookie])).toEqual([TOKENS.alice, 0, '']);
    alice = page;
  }, 60_000);

  it('shows a new run live in the list, waiting for a human with who may decide, and its nodes changing state on its page', async () => {
    runId = await deliver(serve.url, '/deploy/webhook', { ...example('release.json'), sender: { login: 'octocat' } }, 'ui-release');
    const row = alice.locator(`tr[data-run="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('octocat via webhook');
    await row.getByRole('link', { name: runId }).click();
    await alice.locator('[data-node="production_approval"]').waitFor();
    // Every node's state as the page draws it, each change recorded as it happens.
    await alice.evaluate(() => {
      const seen: Record<string, string[]> = ((window as unknown as { seen: Record<string, string[]> }).seen = {});
      const note = (el: Element) => {
        const id = el.getAttribute('data-node')!;
        const s = el.getAttribute('data-state')!;
        if (seen[id]?.at(-1) !== s) (seen[id] ??= []).push(s);
      };
      document.querySelectorAll('[data-node]').forEach(note);
      new MutationObserver((records) => records.forEach((r) => note(r.target as Element))).observe(document.body, { attributes: true, attributeFilter: ['data-state'], subtree: true });
    });
    await alice.locator('[data-node="production_approval"][data-state="waiting-approval"]').waitFor({ timeout: 60_000 });
    const seen = await alice.evaluate(() => (window as unknown as { seen: Record<string, string[]> }).seen);
    // Seen while the page was open: the approval went from waiting for its predecessors to waiting for a person.
    expect(seen.production_approval).toEqual(['pending', 'waiting-approval']);
    expect(seen.staging_validation!.at(-1)).toBe('succeeded');
    expect(seen.production_deployment).toEqual(['pending']);
    expect(await alice.locator('[data-run-status="waiting"]').textContent()).toBe('Waiting for approval');
    const banner = alice.getByRole('region', { name: 'Approval needed: production_approval' });
    await expect.poll(() => banner.textContent()).toContain('may decide: tech-lead (alice) and product-manager (bob)');
    // Edges: the gate's pass taken, drawn apart from those not yet decided.
    expect(await alice.locator('[data-edge="2"]').getAttribute('data-taken')).toBe('taken');
    expect(await alice.locator('[data-edge="6"]').getAttribute('data-taken')).toBe('open');
    await axe(alice, 'a run waiting for approval');

    await alice.locator('[data-node="build_pipeline"]').click();
    const panel = alice.getByRole('complementary');
    await expect.poll(() => panel.locator('[data-why]').textContent()).toBe('Why: succeeded; took the edge to staging_deployment');
    expect(await panel.getByRole('table', { name: 'Attempts' }).locator('tbody tr').count()).toBe(1);
    expect(await panel.getByRole('button', { name: 'Open Build and Test Pipeline here' }).count()).toBe(1);
    await alice.screenshot({ path: join(shots, 'node-panel.png') });
    await axe(alice, 'the node panel');
    await alice.locator('[data-node="production_approval"]').focus();
    await alice.keyboard.press('Enter');
    await expect.poll(() => panel.locator('[data-why]').textContent()).toBe('Why: waits for a human decision: each of tech-lead and product-manager must approve (none so far)');

    // The same nodes as a table, the attempts on a timeline, the journal.
    // The tabs by keyboard: the arrows move from one to the next.
    await alice.getByRole('tab', { name: 'Graph' }).focus();
    await alice.keyboard.press('ArrowRight');
    await expect.poll(() => alice.getByRole('tab', { name: 'Table' }).getAttribute('aria-selected')).toBe('true');
    const table = alice.getByRole('table', { name: /nodes of Complete Deployment Pipeline/ });
    expect(await table.locator('tbody tr').count()).toBe(10);
    expect(await table.locator('[data-row="production_approval"]').textContent()).toContain('waiting for approval');
    await axe(alice, 'the table view');
    await alice.getByRole('tab', { name: 'Timeline' }).click();
    expect(await alice.getByRole('list', { name: 'Attempts in the order they started' }).locator('li').count()).toBeGreaterThanOrEqual(7);
    await axe(alice, 'the timeline');
    await alice.getByRole('tab', { name: 'Graph' }).click();

    // The list, live: the run stands out as waiting for a person, with who may decide.
    await alice.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    const listed = alice.locator(`tr[data-run="${runId}"]`);
    await expect.poll(() => listed.getAttribute('class')).toBe('needs-human');
    expect(await alice.getByRole('region', { name: '1 run waits for a decision' }).textContent()).toContain('may decide: tech-lead (alice) and product-manager (bob)');
    await alice.screenshot({ path: join(shots, 'runs-list.png') });
    await axe(alice, 'the runs list');
    await alice.goBack();
    await alice.locator('[data-node="production_approval"][data-state="waiting-approval"]').waitFor();
  }, 120_000);

  it('shows the server\'s refusals: a principal without the role (403), a second decision (409)', async () => {
    const { context, page } = await signedIn(browser, serve.url, TOKENS.dave, undefined, errors);
    await page.goto(`${serve.url}/ui/runs/${runId}`);
    const banner = page.getByRole('region', { name: 'Approval needed: production_approval' });
    await expect.poll(() => banner.textContent()).toContain('The server says you (dave) hold none of its approver roles');
    await banner.getByRole('button', { name: 'Review and decide on production_approval' }).click();
    const dialog = page.getByRole('dialog', { name: 'Decide on production_approval' });
    await axe(page, 'the decision dialog');
    await dialog.getByRole('button', { name: 'Approve production_approval', exact: true }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/^The server refused: you may not do this \(403 APPROVAL_FORBIDDEN\)\. "dave" holds none of the approver roles of "production_approval"/);
    await context.close();
  }, 60_000);

  it('is approved by two principals in two browsers; the traffic bar reaches 100 %; both show the same run, as the API does', async () => {
    const decide = async (page: Page, comment: string) => {
      await page.getByRole('button', { name: 'Review and decide on production_approval' }).click();
      const dialog = page.getByRole('dialog', { name: 'Decide on production_approval' });
      await dialog.getByLabel(/^Comment/).fill(comment);
      await dialog.getByRole('button', { name: 'Approve production_approval', exact: true }).click();
      return dialog;
    };
    await decide(alice, 'The build and staging look good.');
    await expect.poll(() => alice.locator('.flash').textContent()).toBe('You approved production_approval: 1 of 2 decisions so far.');
    // A second decision by the same principal: the server says no.
    const again = await decide(alice, 'Once more');
    await expect.poll(() => again.getByRole('alert').textContent()).toMatch(/^The server refused: it is too late or already done \(409 APPROVAL_ALREADY_DECIDED\)\. "alice" has already decided/);
    await again.getByRole('button', { name: 'Close', exact: true }).click();

    const { context, page: bob } = await signedIn(browser, serve.url, TOKENS.bob, undefined, errors);
    await bob.goto(`${serve.url}/ui/runs/${runId}`);
    await decide(bob, 'Ship it.');
    await expect.poll(() => bob.locator('.flash').textContent()).toBe('You approved production_approval: it is approved.');
    const bar = alice.locator('[data-traffic="gradual_traffic_switch"]');
    await bar.locator('[data-step="25"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    // The keyboard reaches the running deployment: the graph brings it into view, Enter opens it.
    await alice.locator('[data-node="production_deployment"]').focus();
    await alice.keyboard.press('Enter');
    await alice.getByRole('complementary').getByRole('button', { name: 'Open Production Blue-Green Deployment here' }).waitFor();
    await alice.screenshot({ path: join(shots, 'run-running.png'), fullPage: true });
    await bar.locator('[data-step="50"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    await bar.locator('[data-step="100"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await bar.locator('[data-status]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-status')}`))).toEqual([
      '10:succeeded',
      '25:succeeded',
      '50:succeeded',
      '75:succeeded',
      '100:succeeded',
    ]);
    // Each step's readings against the gate's limits: two metrics, five steps, all within.
    expect(await bar.getByRole('columnheader').allTextContents()).toEqual(['Step', 'Outcome', 'Took', 'error_rate_percent', 'p95_latency_ms']);
    expect(await bar.locator('td.reading.ok').count()).toBe(10);
    expect(await bar.locator('td.reading.bad').count()).toBe(0);
    await alice.locator('[data-run-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await bar.locator('[data-summary]').textContent()).toBe('At 100 %: every step passed its checks.');
    await bar.screenshot({ path: join(shots, 'traffic-bar.png') });
    await bob.locator('[data-run-status="succeeded"]').waitFor();
    // Two tabs, one truth: the same state for every node, and the API's.
    const states = (page: Page) => page.locator('[data-node]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-node')}=${e.getAttribute('data-state')}`));
    const mine = await states(alice);
    expect(await states(bob)).toEqual(mine);
    const view = await api(serve.url, `/runs/${runId}`, TOKENS.alice);
    expect(mine).toEqual(view.nodes.map((n: { id: string; status: string }) => `${n.id}=${n.status}`));
    expect(await alice.getByRole('region', { name: /Approval needed/ }).count()).toBe(0);
    await alice.locator('[data-node="production_approval"]').click();
    const decisions = alice.getByRole('complementary').locator('.decisions li');
    expect(await decisions.allTextContents()).toEqual([expect.stringMatching(/^alice approved at [\d:]+ via api“?The build and staging look good\./), expect.stringMatching(/^bob approved at [\d:]+ via api“?Ship it\./)]);
    await context.close();
  }, 150_000);

  it('draws the faulty release stopping at 10 % with the p95 over its limit, and rolling back', async () => {
    const faulty = await deliver(serve.url, '/deploy/webhook', { ...example('faulty-release.json'), sender: { login: 'octocat' } }, 'ui-faulty');
    await alice.goto(`${serve.url}/ui/runs/${faulty}`);
    await alice.locator('[data-node="production_approval"][data-state="waiting-approval"]').waitFor({ timeout: 60_000 });
    for (const token of [TOKENS.alice, TOKENS.bob]) {
      await fetch(`${serve.url}/runs/${faulty}/nodes/production_approval/decision`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"decision":"approve"}' });
    }
    const bar = alice.locator('[data-traffic="gradual_traffic_switch"]');
    await bar.locator('[data-step="10"][data-status="rolled_back"]').waitFor({ timeout: 60_000 });
    await alice.locator('[data-run-status="rolled_back"]').waitFor({ timeout: 60_000 });
    expect(await bar.locator('[data-status]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-step')}:${e.getAttribute('data-status')}`))).toEqual(['10:rolled_back', '25:pending', '50:pending', '75:pending', '100:pending']);
    await expect.poll(() => bar.locator('[data-summary]').textContent()).toMatch(/^Stopped at 10 %: p95_latency_ms [\d.]+ \(limit: at most 500\); rolled back: the traffic went back\.$/);
    expect(await bar.locator('[data-rollback="succeeded"]').count()).toBe(1);
    const [errorRate, p95] = await bar.locator('tbody tr').first().locator('td.reading').allTextContents();
    expect(errorRate).toMatch(/^ 0 \(limit: at most 1\) within the limit$/);
    expect(p95).toMatch(/^ [\d.]+ \(limit: at most 500\) outside the limit$/);
    expect(await alice.getByRole('region', { name: 'What went wrong' }).textContent()).toContain('Rolled back at production_deployment');
    expect(await state(alice, 'production_deployment')).toBe('compensated');
    expect(await state(alice, 'monitoring_setup')).toBe('skipped');
    // What the staging tests printed is kept with their node, in its panel.
    await alice.locator('[data-node="staging_validation"]').click();
    const logs = alice.getByRole('complementary').getByRole('region', { name: 'Logs' });
    await expect.poll(() => logs.locator('pre').textContent()).toMatch(/#1 node {2}ok 1 - the deployment is healthy and names its version\n/);
    expect(await logs.locator('p').textContent()).toMatch(/^\d+ lines\.$/);
    await bar.screenshot({ path: join(shots, 'traffic-bar-rollback.png') });
    // The step's own run, opened in place: its gate failed.
    await bar.getByRole('button', { name: 'Open the run of 10 %' }).click();
    await alice.locator('[data-node="metrics_gate"][data-state="failed"]').waitFor();
    expect(await alice.getByRole('navigation', { name: 'Sub-flow runs shown' }).textContent()).toContain('gradual_traffic_switch[0]: Blue-Green Traffic Step');
    await alice.locator('[data-node="metrics_gate"]').click();
    await expect.poll(() => alice.getByRole('complementary').locator('[data-why]').textContent()).toMatch(/^Why: failed: GATE_FAILED: gate "metrics_gate" failed: p95_latency_ms <= 500 \(was [\d.]+\); the error handler for every stage acted: rollback$/);
  }, 150_000);

  it('cancels a run after a confirmation: what was left is skipped', async () => {
    const run = await deliver(serve.url, '/deploy/webhook', example('release.json'), 'ui-cancel');
    await alice.goto(`${serve.url}/ui/runs/${run}`);
    await alice.locator('[data-node="production_approval"][data-state="waiting-approval"]').waitFor({ timeout: 60_000 });
    await alice.getByRole('button', { name: 'Cancel the run' }).click();
    await alice.getByRole('dialog', { name: 'Cancel this run?' }).getByRole('button', { name: 'Cancel the run' }).click();
    await expect.poll(() => alice.locator('.flash').textContent()).toBe(`Run ${run} was cancelled by alice.`);
    await alice.locator('[data-run-status="cancelled"]').waitFor();
    await alice.locator('[data-node="notification"][data-state="skipped"]').waitFor();
    await expect.poll(() => alice.getByRole('button', { name: 'Cancel the run' }).count()).toBe(0);
    // The server offers a retry of the cancelled run: what was aborted runs again.
    await alice.getByRole('button', { name: 'Retry the run' }).click();
    await expect.poll(() => alice.locator('.actions [role="status"]').textContent()).toBe('Retried: the failed steps run again.');
    await alice.locator('[data-node="production_approval"][data-state="waiting-approval"]').waitFor({ timeout: 30_000 });
    await alice.locator('[data-node="notification"][data-state="pending"]').waitFor();
    await alice.getByRole('button', { name: 'Cancel the run' }).waitFor();
    expect(await alice.getByRole('button', { name: 'Retry the run' }).count()).toBe(0);
    expect((await api(serve.url, `/runs/${run}?events=true`, TOKENS.alice)).events.filter((e: { type: string }) => e.type === 'run.retried')).toEqual([
      expect.objectContaining({ by: 'alice', nodes: expect.arrayContaining(['production_approval', 'notification']) }),
    ]);
  }, 90_000);

  it('works at 390x844, and through a proxy that strips the prefix', async () => {
    const { context, page } = await signedIn(browser, serve.url, TOKENS.bob, { width: 390, height: 844 }, errors);
    await page.locator(`tr[data-run="${runId}"]`).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await axe(page, 'the runs list at 390x844');
    await page.goto(`${serve.url}/ui/runs/${runId}?node=production_approval`);
    await page.getByRole('complementary').locator('[data-why]').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.locator('[data-node="production_approval"]').waitFor();
    await axe(page, 'a run at 390x844');
    await context.close();

    // A reverse proxy that serves Gantry under /gantry and strips it before passing requests on.
    const proxy: Server = createServer((req, res) => {
      const path = (req.url ?? '/').replace(/^\/gantry/, '') || '/';
      const upstream = request({ host: '127.0.0.1', port: serve.port, path, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const via = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/gantry`;
      const signed = await signedIn(browser, via, TOKENS.alice, undefined, errors);
      await signed.page.locator(`tr[data-run="${runId}"]`).waitFor();
      await signed.page.getByRole('link', { name: runId }).click();
      await signed.page.locator('[data-node="notification"][data-state="succeeded"]').waitFor();
      await signed.context.close();
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  }, 90_000);

  it('logged no error in any page\'s console, but for the refusals the tests provoked', () => {
    expect(errors.filter((e) => !e.startsWith('refused '))).toEqual([]);
    // The wrong token (401), dave's decision (403), alice's second one (409): nothing else failed.
    expect([...new Set(errors)].sort()).toEqual(['refused 401', 'refused 403', 'refused 409']);
  });
});
