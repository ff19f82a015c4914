/**
 * A deployment of a container image: the image run by the engine that built it, watched by a
 * child process of gantry (runtime/container-main.ts) that removes the container when gantry goes.
 * The first container a gantry process starts first removes what an earlier one left behind in
 * this state folder (a sweep by label).
 */
import type { ContainerImage } from '../build/container-image.js';
import { containerEngine, LABELS, stateLabel, sweepContainers } from '../runtime/container-engine.js';
import { packProgram, stateDir } from '../runtime/paths.js';
import { startProcess, type Started, type StartOptions } from '../runtime/processes.js';
import { packFailure } from '../runtime/failure.js';

/** What a deployment record keeps of its container. */
export interface ContainerRun {
  readonly engine: ContainerImage['engine'];
  readonly image_id: string;
  readonly image: string;
  readonly port: number;
  /** The current container's name (a new one each time it is started again). */
  readonly name: string;
}

let swept: Promise<string[]> | undefined;

/**
 * Starts `image` as deployment `id`, with the service settings `env` (as a process gets them);
 * resolves once the service answers through its mapped port. What it prints goes to `output` too.
 */
export async function startContainer(
  id: string,
  image: Pick<ContainerImage, 'engine' | 'id' | 'ref' | 'port'>,
  attempt: number,
  env: Readonly<Record<string, string>> = {},
  output?: StartOptions['output'],
): Promise<{ started: Started; container: ContainerRun }> {
  const choice = await containerEngine();
  if (choice.engine === null) throw packFailure(`${id} runs the container image ${image.ref}, but no container engine works here now: ${choice.why}`);
  const engine = choice.engine;
  if (engine.name !== image.engine) throw packFailure(`${id} runs an image built with ${image.engine}, which ${engine.name} (the engine in use) does not have`);
  // A sweep that fails (a container went between listing and inspecting it) must not stop a deployment.
  swept ??= sweepContainers(engine).catch(() => []);
  await swept;
  const name = `gantry-${id}-${attempt}`;
  const spec = {
    engine: engine.name,
    bin: engine.bin,
    global_flags: engine.global_flags,
    run_flags: engine.run_flags,
    image: image.id,
    name,
    labels: { [LABELS.state]: stateLabel(), [LABELS.deployment]: id },
    watcher_label: LABELS.watcher,
    port: image.port,
    env,
  };
  // A container takes longer than a process to start (the engine sets up its namespaces and port).
  const started = await startProcess({ role: 'container', name: id, program: packProgram('container-main.js'), args: ['--spec', JSON.stringify(spec)], cwd: stateDir(), readyTimeoutMs: 60_000, ...(output === undefined ? {} : { output }) });
  return { started, container: { engine: engine.name, image_id: image.id, image: image.ref, port: image.port, name } };
}
