import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { which } from '../source/tools.js';
import { IMAGE_MANIFEST_PATH, runtimeLayer } from './runtime-layer.js';

const previous = process.env.GANTRY_LOCAL_STATE;
beforeEach(() => {
  process.env.GANTRY_LOCAL_STATE = mkdtempSync(join(tmpdir(), 'gantry-runtime-'));
});
afterEach(() => {
  rmSync(process.env.GANTRY_LOCAL_STATE!, { recursive: true, force: true });
  if (previous === undefined) delete process.env.GANTRY_LOCAL_STATE;
  else process.env.GANTRY_LOCAL_STATE = previous;
});

describe('the runtime an image FROM scratch gets', () => {
  it('is this node and the libraries it links, with their own times (the same layer from build to build) and a manifest of them', async () => {
    const { dir, manifest } = await runtimeLayer('scratch');
    expect(manifest).toMatchObject({ schema: 'gantry.image-manifest/1', base: 'scratch', node: process.version });
    const node = manifest.files.find((f) => f.path === '/usr/local/bin/node')!;
    expect(node).toMatchObject({ source: process.execPath, bytes: statSync(process.execPath).size });
    expect(statSync(join(dir, node.path)).mtimeMs).toBe(statSync(process.execPath).mtimeMs);
    expect(manifest.files.some((f) => /\/libc\.so\.6$/.test(f.path))).toBe(true);
    for (const file of manifest.files) expect(existsSync(join(dir, file.path)), file.path).toBe(true);
    if (which('dpkg-query') !== undefined) expect(manifest.packages.map((p) => p.name)).toContain('libc6');
    expect(JSON.parse(readFileSync(join(dir, IMAGE_MANIFEST_PATH), 'utf8'))).toEqual(manifest);
    // Prepared once: a second build reads it back.
    expect((await runtimeLayer('scratch')).manifest).toEqual(manifest);
  });

  it('is only the manifest when a base image brings the runtime', async () => {
    const { manifest } = await runtimeLayer('node:20-alpine');
    expect(manifest).toEqual({ schema: 'gantry.image-manifest/1', base: 'node:20-alpine', node: null, files: [], packages: [] });
  });
});
