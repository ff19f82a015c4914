import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigText, validateFlowText } from '@gantry/engine';
import { HTTP_ERRORS } from '@gantry/server';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const section = README.slice(README.indexOf('## gantry serve'), README.indexOf('## Writing flows'));

describe('the README\'s gantry serve section', () => {
  it('has a configuration example that validates', () => {
    const match = /<!-- example: serve-config -->\n```json\n([\s\S]*?)```/.exec(section);
    expect(match).not.toBeNull();
    expect(validateConfigText(match![1]!).diagnostics).toEqual([]);
  });

  it('has a flow example that validates, whose webhook the configuration example can serve', () => {
    const flow = /<!-- example: serve-flow -->\n```json\n([\s\S]*?)```/.exec(section);
    expect(flow).not.toBeNull();
    expect(validateFlowText(flow![1]!).diagnostics).toEqual([]);
    const config = JSON.parse(/<!-- example: serve-config -->\n```json\n([\s\S]*?)```/.exec(section)![1]!) as { credentials: Record<string, unknown> };
    expect(Object.keys(config.credentials)).toContain('github_webhook_secret');
    expect(section).toContain('/hooks/hello');
  });

  it('lists every route the server has and the statuses it answers', () => {
    for (const route of ['POST /runs/:id/nodes/:node/decision', 'GET /runs?', 'GET /runs/:id', 'POST /runs/:id/cancel', 'GET /metrics', 'GET /health']) expect(section).toContain(route);
    for (const status of new Set(Object.values(HTTP_ERRORS).map((e) => e.status))) if (status !== 503 && status !== 405) expect(section).toContain(String(status));
  });
});
