/**
 * The container engine behind the pack's build and deploy agents: podman or docker, chosen by the
 * pack's settings (containers.json beside the package, or the file GANTRY_LOCAL_CONTAINERS names;
 * GANTRY_LOCAL_ENGINE over its `engine`), else the first that works here — podman, then docker.
 * "Works" means the engine answers `info` with the configured flags: a docker client whose daemon
 * is not running, or a podman whose configured runtime is missing, does not count. With none, the
 * pack deploys processes, as it always has, and says so once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GantryError } from '@gantry/engine';
import { DEFAULT_CONTAINER_SETTINGS, stateDir } from './paths.js';
import { runTool, which, type ToolResult } from '../source/tools.js';
import { packFailure } from './failure.js';

export type EngineName = 'podman' | 'docker';

export interface EngineFlags {
  /** Before the subcommand, on every call (`--runtime runc --cgroup-manager=cgroupfs`). */
  readonly global_flags: readonly string[];
  /** Added to `run` (`--ulimit nofile=10000:10000`). */
  readonly run_flags: readonly string[];
  /** Added to `build`. */
  readonly build_flags: readonly string[];
}

export interface ContainerSettings {
  /** @default "auto" */
  readonly engine: 'auto' | 'none' | EngineName;
  readonly podman: EngineFlags;
  readonly docker: EngineFlags;
  /** The build argument BASE: "scratch" copies this machine's Node runtime into the image. @default "scratch" */
  readonly base_image: string;
  /** Where the settings came from (a file, and GANTRY_LOCAL_ENGINE when set). */
  readonly source: string;
}

export interface ContainerEngine extends EngineFlags {
  readonly name: EngineName;
  /** The executable. */
  readonly bin: string;
  readonly version: string;
  readonly base_image: string;
  readonly settings: string;
}

export type EngineChoice = { readonly engine: ContainerEngine; readonly why: string } | { readonly engine: null; readonly why: string };

const ENGINES: readonly EngineName[] = ['podman', 'docker'];

/** The pack's container settings, validated: a wrong value is an error that says which and where. */
export function containerSettings(env: NodeJS.ProcessEnv = process.env): ContainerSettings {
  const file = env.GANTRY_LOCAL_CONTAINERS ? env.GANTRY_LOCAL_CONTAINERS : DEFAULT_CONTAINER_SETTINGS;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new GantryError('CONFIG_INVALID', `cannot read the container settings ${file}: ${(error as Error).message}`);
  }
  const where = (key: string) => `${key} in ${file}`;
  const engine = env.GANTRY_LOCAL_ENGINE ? env.GANTRY_LOCAL_ENGINE : (raw.engine ?? 'auto');
  if (typeof engine !== 'string' || !['auto', 'none', ...ENGINES].includes(engine)) {
    throw new GantryError('CONFIG_INVALID', `expected ${env.GANTRY_LOCAL_ENGINE ? 'GANTRY_LOCAL_ENGINE' : where('engine')} to be "auto", "none", "podman" or "docker", got ${JSON.stringify(engine)}`);
  }
  const flags = (name: EngineName): EngineFlags => {
    const given = (raw[name] ?? {}) as Record<string, unknown>;
    const list = (key: keyof EngineFlags): string[] => {
      const value = given[key] ?? [];
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new GantryError('CONFIG_INVALID', `expected ${where(`${name}.${key}`)} to be a list of strings, got ${JSON.stringify(value)}`);
      return value as string[];
    };
    return { global_flags: list('global_flags'), run_flags: list('run_flags'), build_flags: list('build_flags') };
  };
  const base = raw.base_image ?? 'scratch';
  if (typeof base !== 'string' || base === '') throw new GantryError('CONFIG_INVALID', `expected ${where('base_image')} to be an image name or "scratch", got ${JSON.stringify(base)}`);
  const source = env.GANTRY_LOCAL_ENGINE ? `${file}, GANTRY_LOCAL_ENGINE=${env.GANTRY_LOCAL_ENGINE}` : file;
  return { engine: engine as ContainerSettings['engine'], podman: flags('podman'), docker: flags('docker'), base_image: base, source };
}

let chosen: { key: string; choice: Promise<EngineChoice> } | undefined;
let announced = false;

/**
 * The engine this gantry process uses (found once, then remembered), or none with the reason.
 * An engine named in the settings that does not work is an error, not a quiet fall-back.
 */
export function containerEngine(): Promise<EngineChoice> {
  const key = `${process.env.GANTRY_LOCAL_ENGINE ?? ''}|${process.env.GANTRY_LOCAL_CONTAINERS ?? ''}|${process.env.PATH ?? ''}`;
  if (chosen?.key !== key) chosen = { key, choice: choose(containerSettings()) };
  return chosen.choice;
}

async function choose(settings: ContainerSettings): Promise<EngineChoice> {
  if (settings.engine === 'none') return announce({ engine: null, why: `containers are switched off (engine "none" in ${settings.source})` });
  const tried: string[] = [];
  for (const name of settings.engine === 'auto' ? ENGINES : [settings.engine]) {
    const probe = await probeEngine(name, settings);
    if (typeof probe !== 'string') return announce({ engine: probe, why: `${name} ${probe.version} works here (${settings.engine === 'auto' ? 'found on the PATH' : `chosen in ${settings.source}`})` });
    if (settings.engine !== 'auto') throw packFailure(`the container engine ${name} chosen in ${settings.source} does not work here: ${probe}`);
    tried.push(probe);
  }
  return announce({ engine: null, why: tried.join('; ') });
}

/** The engine, ready to use, or why not. */
async function probeEngine(name: EngineName, settings: ContainerSettings): Promise<ContainerEngine | string> {
  const bin = which(name);
  if (bin === undefined) return `${name} is not on the PATH`;
  const flags = settings[name];
  const format = name === 'podman' ? '{{.Version.Version}}' : '{{.ServerVersion}}';
  const info = await runTool(bin, [...flags.global_flags, 'info', '--format', format], { cwd: stateDir(), timeoutMs: 30_000 }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message, timedOut: false }));
  const version = info.stdout.trim().replace(/^"|"$/g, '');
  if (info.code !== 0 || version === '') {
    const said = (info.stderr.trim().split('\n').filter(Boolean).at(-1) ?? (info.timedOut ? 'timed out' : `exit ${info.code}`)).slice(0, 300);
    return `${name} is on the PATH but \`${name} ${[...flags.global_flags, 'info'].join(' ')}\` fails (${said})`;
  }
  return { name, bin, version, ...flags, base_image: settings.base_image, settings: settings.source };
}

/** Says once per gantry process which mode the pack runs in, and why. */
function announce(choice: EngineChoice): EngineChoice {
  if (!announced) {
    announced = true;
    const how = choice.engine
      ? `containers: images are built with ${choice.engine.name} and deployments run as containers`
      : 'processes: no container engine, so images are folders and deployments run as processes';
    process.stderr.write(`local agent pack: ${how} — ${choice.why}\n`);
  }
  return choice;
}

/** Runs `engine <global flags> <args>`; a non-zero exit is an error that quotes the engine. */
export async function engineRun(engine: ContainerEngine, args: readonly string[], options: { timeoutMs?: number; signal?: AbortSignal; cwd?: string } = {}): Promise<ToolResult> {
  const result = await runTool(engine.bin, [...engine.global_flags, ...args], { cwd: options.cwd ?? stateDir(), timeoutMs: options.timeoutMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
  if (result.code !== 0) {
    const said = result.timedOut ? 'timed out' : result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 600);
    throw packFailure(`\`${engine.name} ${args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}\` failed (exit ${result.code}): ${said}`);
  }
  return result;
}

/** The labels that tie a container to this state folder and the process that watches it. */
export const LABELS = { state: 'io.gantry.local.state', watcher: 'io.gantry.local.watcher', deployment: 'io.gantry.local.deployment' } as const;

/** This state folder's label value: containers of other folders (other users' runs) are never touched. */
export function stateLabel(): string {
  return createHash('sha256').update(stateDir()).digest('hex').slice(0, 16);
}

/**
 * Removes this state folder's containers whose watcher process is gone. A watcher removes its
 * container when gantry goes, even on `kill -9`; this catches the rest (a watcher killed itself,
 * a machine that lost power) at the next start.
 */
export async function sweepContainers(engine: ContainerEngine): Promise<string[]> {
  const { stdout: ids } = await engineRun(engine, ['ps', '--all', '--quiet', '--filter', `label=${LABELS.state}=${stateLabel()}`]);
  if (ids.trim() === '') return [];
  // `inspect` reads labels the same way in podman and docker (`ps --format` does not).
  const { stdout: listed } = await engineRun(engine, ['container', 'inspect', '--format', `{{.Id}} {{index .Config.Labels "${LABELS.watcher}"}}`, ...ids.trim().split(/\s+/)]);
  const orphans = listed
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([id, watcher]) => id !== undefined && id !== '' && !alive(Number(watcher)))
    .map(([id]) => id!);
  if (orphans.length > 0) await engineRun(engine, ['rm', '--force', ...(engine.name === 'podman' ? ['--time', '0'] : []), ...orphans]);
  return orphans;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
