import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../deploy/deployments.js';
import type { Artifact } from '../build/artifacts.js';
import { jobName, writeAlertRules, writeScrapeConfig } from './files.js';

const root = mkdtempSync(join(tmpdir(), 'gantry-mon-'));
const state = join(root, 'a', 'b', 'local');
const previous = process.env.GANTRY_LOCAL_STATE;
beforeAll(() => {
  process.env.GANTRY_LOCAL_STATE = state;
});
afterAll(() => {
  if (previous === undefined) delete process.env.GANTRY_LOCAL_STATE;
  else process.env.GANTRY_LOCAL_STATE = previous;
  rmSync(root, { recursive: true, force: true });
});

describe('names from triggers that become file names', () => {
  it('a service or environment name that would leave the state folder is refused, and nothing is written', async () => {
    expect(() => writeScrapeConfig('../../../../escaped', 'production', ['127.0.0.1:1'], '/metrics', '15s')).toThrow(/expected the service name to be .* got "\.\.\/\.\.\/\.\.\/\.\.\/escaped"/);
    expect(() => writeAlertRules([], 'app', '../../../x')).toThrow(/expected the environment to be/);
    const artifact = { dir: root, manifest: { commit: 'c1' } } as unknown as Artifact;
    await expect(deploy({ service: '../../../../escaped', environment: 'green', artifact })).rejects.toThrow(/expected the service name/);
    expect(readdirSync(root)).toEqual(['a']);
    expect(existsSync(join(root, 'escaped-production.scrape.yml'))).toBe(false);
  });

  it('ordinary names pass', () => {
    expect(jobName('sample-service', 'production')).toBe('sample-service-production');
    expect(jobName('svc_2.api', 'staging')).toBe('svc_2.api-staging');
  });
});
