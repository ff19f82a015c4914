/**
 * One container's watcher, run by the pack as a child process like any service (processes.ts):
 * it runs the container attached (`<engine> run --rm -p 127.0.0.1::<port> …`), passes its output
 * on, and once the service in it says it listens, prints the port on this machine that maps to it.
 * An engine runs containers apart from the process that asked for them, so a container would
 * outlive gantry; this process does not (parent-watch), and when it ends — gantry finished, was
 * cancelled, or was killed with SIGKILL — it removes its container first. SIGTERM stops the
 * container gracefully (the stop grace is the engine's), then it ends.
 *
 *   node container-main.js --spec '{"bin":…,"global_flags":[…],"run_flags":[…],"image":…,"name":…,"labels":{…},"port":8080,"env":{…}}'
 *   prints {"msg":"listening","port":<port on 127.0.0.1>,"container":<name>,…}
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

interface ContainerSpec {
  readonly engine: 'podman' | 'docker';
  readonly bin: string;
  readonly global_flags: readonly string[];
  readonly run_flags: readonly string[];
  readonly image: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The port the service listens on inside the container. */
  readonly port: number;
  /** The label that names this watcher (a sweep removes containers whose watcher is gone). */
  readonly watcher_label: string;
  /** The service's settings (its environment in the container). */
  readonly env?: Readonly<Record<string, string>>;
}

const spec = JSON.parse(process.argv[process.argv.indexOf('--spec') + 1] ?? '') as ContainerSpec;
const engine = (...args: string[]) => [...spec.global_flags, ...args];
let gone = false;
let stopping = false;

const labels = Object.entries({ ...spec.labels, [spec.watcher_label]: String(process.pid) }).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
const env = Object.entries(spec.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
const child = spawn(spec.bin, engine('run', '--rm', '--name', spec.name, ...labels, ...env, ...spec.run_flags, '--publish', `127.0.0.1::${spec.port}`, spec.image), { stdio: ['ignore', 'pipe', 'pipe'] });

// Whatever ends this process (parent-watch's exit when gantry is gone included) removes the container.
process.on('exit', () => {
  if (gone) return;
  spawnSync(spec.bin, engine('rm', '--force', ...(spec.engine === 'podman' ? ['--time', '0'] : []), spec.name), { stdio: 'ignore' });
  child.kill('SIGKILL');
});

child.once('exit', (code, signal) => {
  gone = true;
  process.exit(code ?? (signal ? 1 : 0));
});
child.once('error', (error) => {
  process.stderr.write(`cannot run ${spec.bin}: ${error.message}\n`);
  gone = true;
  process.exit(1);
});
child.stderr.pipe(process.stderr);

let ready = false;
createInterface({ input: child.stdout }).on('line', (line) => {
  const said = ready ? undefined : listening(line);
  if (said === undefined) {
    process.stdout.write(`${line}\n`);
    return;
  }
  ready = true;
  // The service's own port is inside the container: what a caller needs is the one mapped here.
  execFile(spec.bin, engine('port', spec.name, `${spec.port}/tcp`), (error, stdout) => {
    const hostPort = Number(/:(\d+)\s*$/m.exec(stdout)?.[1]);
    if (error || !Number.isInteger(hostPort)) {
      process.stderr.write(`no port of this machine maps to ${spec.name}:${spec.port}: ${error?.message ?? stdout}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify({ ...said, msg: 'listening', port: hostPort, container: spec.name, container_port: said.port })}\n`);
  });
});

function listening(line: string): Record<string, unknown> | undefined {
  try {
    const message = JSON.parse(line) as Record<string, unknown>;
    return message.msg === 'listening' && typeof message.port === 'number' ? message : undefined;
  } catch {
    return undefined;
  }
}

process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  // The engine stops the service with SIGTERM, then SIGKILL after the grace; `--rm` removes it and
  // the attached `run` ends, which ends this process. If the stop itself fails, remove it outright.
  execFile(spec.bin, engine('stop', '--time', '3', spec.name), (error) => {
    if (error) process.exit(1);
  });
});
