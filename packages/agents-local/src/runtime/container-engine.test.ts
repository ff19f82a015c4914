import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { which } from '../source/tools.js';
import { containerEngine, containerSettings } from './container-engine.js';

const saved = { ...process.env };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-engine-'));
  process.env.GANTRY_LOCAL_STATE = join(dir, 'state');
});
afterEach(() => {
  for (const key of ['GANTRY_LOCAL_ENGINE', 'GANTRY_LOCAL_CONTAINERS', 'GANTRY_LOCAL_STATE', 'PATH']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  rmSync(dir, { recursive: true, force: true });
});

function settingsFile(value: unknown): string {
  const file = join(dir, 'containers.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('the container settings', () => {
  it('ship the flags these machines need for podman, and choose the engine by what works', () => {
    const settings = containerSettings({});
    expect(settings).toMatchObject({ engine: 'auto', base_image: 'scratch' });
    expect(settings.podman.global_flags).toEqual(['--runtime', 'runc', '--cgroup-manager=cgroupfs']);
    expect(settings.podman.run_flags).toEqual(['--ulimit', 'nofile=10000:10000', '--ulimit', 'nproc=4096:4096']);
  });

  it('refuse a wrong value, saying what was expected, what was found and where', () => {
    expect(() => containerSettings({ GANTRY_LOCAL_ENGINE: 'kubernetes' })).toThrow('expected GANTRY_LOCAL_ENGINE to be "auto", "none", "podman" or "docker", got "kubernetes"');
    const file = settingsFile({ podman: { run_flags: '--ulimit nofile=1:1' } });
    expect(() => containerSettings({ GANTRY_LOCAL_CONTAINERS: file })).toThrow(`expected podman.run_flags in ${file} to be a list of strings, got "--ulimit nofile=1:1"`);
    expect(() => containerSettings({ GANTRY_LOCAL_CONTAINERS: settingsFile({ base_image: '' }) })).toThrow(/expected base_image in .* to be an image name or "scratch", got ""/);
    expect(() => containerSettings({ GANTRY_LOCAL_CONTAINERS: join(dir, 'missing.json') })).toThrow(/cannot read the container settings .*missing\.json/);
  });
});

describe('the container engine', () => {
  it('is none when switched off, with the reason', async () => {
    process.env.GANTRY_LOCAL_ENGINE = 'none';
    expect(await containerEngine()).toEqual({ engine: null, why: expect.stringContaining('containers are switched off (engine "none"') });
  });

  const docker = which('docker');
  it.skipIf(docker === undefined)('is not a docker client whose daemon does not answer `docker info` (docker --version is not enough)', async () => {
    // Only docker on the PATH: the client is there, the daemon is not (as on these machines).
    const bin = join(dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    symlinkSync(docker!, join(bin, 'docker'));
    process.env.PATH = bin;
    process.env.GANTRY_LOCAL_ENGINE = 'auto';
    const choice = await containerEngine();
    if (choice.engine !== null) return; // a docker daemon runs here after all: nothing to show
    expect(choice.why).toMatch(/^podman is not on the PATH; docker is on the PATH but `docker info` fails \(.+\)$/);
  });

  const podman = which('podman');
  it.skipIf(podman === undefined)('chosen explicitly but not working with the configured flags, is an error rather than processes', async () => {
    process.env.GANTRY_LOCAL_CONTAINERS = settingsFile({ engine: 'podman', podman: { global_flags: ['--runtime', 'no-such-runtime'] } });
    await expect(containerEngine()).rejects.toThrow(/the container engine podman chosen in .* does not work here: podman is on the PATH but `podman --runtime no-such-runtime info` fails/);
    // auto: the same failure means processes, with the reason
    process.env.GANTRY_LOCAL_ENGINE = 'auto';
    process.env.PATH = join(podman!, '..');
    const choice = await containerEngine();
    expect(choice.engine).toBeNull();
    expect(choice.why).toMatch(/podman is on the PATH but `podman --runtime no-such-runtime info` fails/);
  });
});
