/**
 * podman as the container tests see it: whether it works here (with the flags the pack's settings
 * give it), and what it holds of one test folder — its containers and images, found by the labels
 * the pack puts on them (the state folder's hash), so that other runs on this machine are never
 * counted or touched.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type Folder } from '../deploy/support.js';

const settings = JSON.parse(readFileSync(join(ROOT, 'packages/agents-local/containers.json'), 'utf8')) as { podman: { global_flags: string[] } };

export function podman(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', [...settings.podman.global_flags, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.error ? r.error.message : (r.stderr ?? '') };
}

/** Why the container tests cannot run here, or undefined when podman works. */
export function podmanMissing(): string | undefined {
  const info = podman(['info', '--format', '{{.Version.Version}}']);
  if (info.status === 0) return undefined;
  return `podman does not work here (${info.stderr.trim().split('\n').at(-1) ?? 'not installed'}): .ci/run installs it with apt (apt-get install podman runc)`;
}

/** The label value the pack gives what it runs for this folder's state (runtime/container-engine.ts). */
export function stateLabel(folder: Folder): string {
  return createHash('sha256').update(join(realpathSync(folder.dir), '.gantry', 'local')).digest('hex').slice(0, 16);
}

export interface Container {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
  Ports: { host_ip: string; container_port: number; host_port: number }[] | null;
}

/** Every container of the folder's state, running or not (`podman ps -a`). */
export function containersOf(folder: Folder): Container[] {
  const r = podman(['ps', '--all', '--filter', `label=io.gantry.local.state=${stateLabel(folder)}`, '--format', 'json']);
  if (r.status !== 0) throw new Error(`podman ps: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as Container[];
}

/** The images the pack built for the folder. */
export function imagesOf(folder: Folder): { Id: string; Labels: Record<string, string> | null; Names?: string[] }[] {
  const r = podman(['images', '--filter', `label=io.gantry.local.built-in=${stateLabel(folder)}`, '--format', 'json']);
  if (r.status !== 0) throw new Error(`podman images: ${r.stderr}`);
  const listed = JSON.parse(r.stdout || '[]') as { Id: string; Labels: Record<string, string> | null; Names?: string[] }[];
  // podman lists an image once per name.
  return [...new Map(listed.map((i) => [i.Id, i])).values()];
}

/** Removes what the folder's runs left in podman's store (the images; containers should be gone already). */
export function removeFromPodman(folder: Folder): void {
  const containers = containersOf(folder).map((c) => c.Id);
  if (containers.length > 0) podman(['rm', '--force', '--time', '0', ...containers]);
  const images = imagesOf(folder).map((i) => i.Id);
  if (images.length > 0) podman(['rmi', '--force', ...images]);
}

/** The folder's containers still there after waiting up to `ms` for them to go. */
export async function leftContainers(folder: Folder, ms = 20_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = containersOf(folder);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = containersOf(folder);
  }
  return left.map((c) => `${c.Names[0]} (${c.State})`);
}
