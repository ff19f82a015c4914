/**
 * The `command` transport (DESIGN §5): an agent that is a program. It is spawned without a shell
 * for each task, reads the task envelope as JSON on stdin, and prints its reply as JSON on stdout.
 *
 * - stdout: the whole of it is one JSON value (pretty-printed is fine); if it does not parse, its
 *   last non-empty line must (so a program may print progress first). A `{ status, … }` is a
 *   reply, any other object the result. Logs belong on stderr: its end goes into a failure's
 *   message, and every line is kept with the node's attempt (`gantry logs`).
 * - exit 0 with a JSON reply: that reply. A non-zero exit: a failure, with the end of stderr;
 *   retryable only for exit 75 (EX_TEMPFAIL, "try again later") or when something else killed
 *   the program with a signal (the OOM killer). A program that exits non-zero after printing a
 *   `{ status: "failed", error }` reply fails with that error.
 * - abort (timeout, cancellation, a failed sibling): SIGTERM to the program's process group, then
 *   SIGKILL to the group after `killGraceMs` (even if the program itself has exited by then); the
 *   call ends once the program is gone.
 * - environment: the given `env`, else a minimal one ({@link minimalEnvironment}): never Gantry's
 *   whole environment, which holds its credentials and whatever else the operator's shell had.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { GantryError, type AgentTransport } from '@gantry/engine';
import { describeValue } from '../connectors/params.js';
import { excerpt } from '../connectors/http-call.js';
import { safeCause, scrubText } from '../connectors/secrets.js';
import { callClock, intOption, scrubReply, silentLog, stringOption, taskName, taskTime, toReply } from './reply.js';

/** Options of {@link commandAgent}. */
export interface CommandAgentOptions {
  /** The program: a path, or a name looked up on PATH. No shell is involved. */
  readonly command: string;
  readonly args?: readonly string[];
  /** @default this process's working directory */
  readonly cwd?: string;
  /** The program's whole environment. @default the minimal environment of this process ({@link minimalEnvironment}) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values scrubbed from every message (a credential passed in `env`). @default [] */
  readonly secrets?: readonly string[];
  /** A task's longest time when its node has no timeout (`timeout_ms`); a timeout is retryable. @default none */
  readonly taskTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL. @default 2000 */
  readonly killGraceMs?: number;
  /** Largest stdout accepted, in bytes; more kills the program (RESPONSE_TOO_LARGE). @default 10485760 (10 MiB) */
  readonly maxOutputBytes?: number;
  readonly log?: Logger;
}

/**
 * Programs running now. Each has its own process group (so that its children stop with it), which
 * also means a terminal's Ctrl-C does not reach them: if Gantry exits first, they are killed.
 */
const running = new Set<number>();
let exitHookInstalled = false;

function track(pid: number | undefined): void {
  if (pid === undefined || process.platform === 'win32') return;
  running.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of running) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/**
 * What a program needs to run as the user and speak their language, and nothing that could be a
 * secret: the search path, the user and their home, the locale, the time zone, the temporary
 * folder and the terminal, plus what Windows needs to start a process at all.
 */
const MINIMAL = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'TERM',
  'SYSTEMROOT',
  'COMSPEC',
  'PATHEXT',
  'WINDIR',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
]);

/** The variables of `env` a program always gets (`MINIMAL` and every LC_*), the name's case kept (Windows: `Path`). */
export function minimalEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const upper = name.toUpperCase();
    if (value !== undefined && (MINIMAL.has(upper) || upper.startsWith('LC_'))) picked[name] = value;
  }
  return picked;
}

/** sysexits.h EX_TEMPFAIL: the one exit status that asks for a retry. */
const EX_TEMPFAIL = 75;
/** The end of stderr kept; far more than is shown, so that a secret is never cut in half where it is shown. */
const STDERR_KEPT = 64 * 1024;

/** An agent that is a program (see the module comment for the protocol). */
export function commandAgent(options: CommandAgentOptions): AgentTransport {
  const factory = 'commandAgent';
  const command = stringOption(factory, 'command', options.command, true);
  const args = options.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new GantryError('USAGE', `${factory}: expected \`args\` to be a list of strings, got ${describeValue(args)}`);
  }
  const taskTimeoutMs = intOption(factory, 'taskTimeoutMs', options.taskTimeoutMs, undefined);
  const killGraceMs = intOption(factory, 'killGraceMs', options.killGraceMs, 2000, 0)!;
  const maxOutputBytes = intOption(factory, 'maxOutputBytes', options.maxOutputBytes, 10 * 1024 * 1024)!;
  const secrets = (options.secrets ?? []).filter((s) => s !== '');
  const log = options.log ?? silentLog;
  const shown = [command, ...args].join(' ');

  return {
    call(task, callerSignal, context) {
      const clock = callClock(context);
      const time = taskTime(task, callerSignal, taskTimeoutMs, clock);
      const what = `${taskName(task)} (${shown})`;
      const scrub = (text: string) => scrubText(text, secrets);
      return new Promise((resolve, reject) => {
        if (time.signal.aborted) {
          time.dispose();
          return reject(time.signal.reason);
        }
        const started = clock.now();
        // Its own process group, so that a shell script's children are stopped with it.
        const child = spawn(command, args, {
          cwd: options.cwd,
          env: (options.env ?? minimalEnvironment(process.env)) as NodeJS.ProcessEnv,
          stdio: ['pipe', 'pipe', 'pipe'],
          detached: process.platform !== 'win32',
          windowsHide: true,
        });
        track(child.pid);
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let stderr = '';
        let stopping: 'abort' | 'too_large' | undefined;
        let settled = false;

        const signalGroup = (sig: NodeJS.Signals) => {
          try {
            if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, sig);
            else child.kill(sig);
          } catch {
            // Already gone.
          }
        };
        const stop = (why: 'abort' | 'too_large') => {
          if (stopping !== undefined) return;
          stopping = why;
          signalGroup('SIGTERM');
          // The whole group at the end of the grace, even when the program has exited by then: a
          // process it started that ignores SIGTERM (and holds no pipe of ours) would outlive it.
          // In real time, not on the run's clock: the grace is the operating system's process's,
          // and a fake clock that is never advanced must not leave a program running.
          setTimeout(() => {
            signalGroup('SIGKILL');
            if (child.pid !== undefined) running.delete(child.pid);
          }, killGraceMs).unref();
        };
        const onAbort = () => stop('abort');
        time.signal.addEventListener('abort', onAbort, { once: true });
        const finish = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          // A stopped program's group stays known (killed if Gantry exits) until its SIGKILL is sent.
          if (stopping === undefined && child.pid !== undefined) running.delete(child.pid);
          time.signal.removeEventListener('abort', onAbort);
          time.dispose();
          log.debug({ agent: task.agent, task: task.task, runId: task.run.id, nodeId: task.node, command, durationMs: clock.now() - started }, 'command agent finished');
          outcome();
        };

        child.stdout.on('data', (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes > maxOutputBytes) return stop('too_large');
          stdout.push(chunk);
        });
        // Every line of stderr is kept with the attempt too (bounded there), scrubbed whole: a
        // credential split across two chunks is still one line.
        const output = context?.output;
        let line = '';
        const keep = (all: boolean) => {
          const end = all ? line.length : line.lastIndexOf('\n') + 1;
          if (output !== undefined && end > 0) output.write(scrub(line.slice(0, end)), 'stderr');
          line = line.slice(end);
        };
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr = (stderr + chunk).slice(-STDERR_KEPT);
          line += chunk;
          keep(line.length > STDERR_KEPT);
        });
        // A program that exits without reading its stdin closes the pipe: not an error of ours.
        child.stdin.on('error', () => {});
        child.stdin.end(`${JSON.stringify(task)}\n`);

        child.on('error', (error: NodeJS.ErrnoException) => {
          finish(() =>
            reject(
              new GantryError('AGENT_FAILED', `${what} could not be started: ${error.code ?? scrub(error.message)}${error.code === 'ENOENT' ? ' (no such program; a relative path is taken from the configuration file\'s folder, a bare name from PATH)' : ''}`, {
                cause: safeCause(error, secrets),
              }),
            ),
          );
        });
        child.on('close', (code, signal) => {
          keep(true);
          finish(() => {
            if (stopping === 'abort') return reject(time.signal.reason);
            const tail = stderr.trim() === '' ? '' : `; stderr: ${excerpt(scrub(stderr).slice(-1000), [], 1000)}`;
            if (stopping === 'too_large') {
              return reject(new GantryError('RESPONSE_TOO_LARGE', `${what} printed more than ${maxOutputBytes} bytes on stdout (maxOutputBytes) and was stopped`));
            }
            const text = Buffer.concat(stdout).toString('utf8');
            const parsed = parseOutput(text);
            if (code === 0) {
              if (parsed === undefined) {
                return reject(new GantryError('AGENT_FAILED', `${what} exited 0 but printed no JSON reply on stdout: ${excerpt(text, secrets)}${tail}`));
              }
              try {
                return resolve(scrubReply(toReply(parsed.value, what), secrets));
              } catch (error) {
                return reject(error);
              }
            }
            if (parsed !== undefined && (parsed.value as { status?: unknown } | null)?.status === 'failed') {
              try {
                return resolve(scrubReply(toReply(parsed.value, what), secrets));
              } catch {
                // Not a well-formed reply: report the exit status below.
              }
            }
            const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
            reject(new GantryError('AGENT_FAILED', `${what} ${how}${tail}`, { retryable: signal !== null || code === EX_TEMPFAIL }));
          });
        });
      });
    },
  };
}

/** The whole of stdout as JSON, else its last non-empty line; undefined when neither parses. */
function parseOutput(text: string): { value: unknown } | undefined {
  const attempt = (candidate: string) => {
    try {
      return { value: JSON.parse(candidate) as unknown };
    } catch {
      return undefined;
    }
  };
  const whole = text.trim();
  if (whole === '') return undefined;
  return attempt(whole) ?? attempt(whole.split('\n').map((l) => l.trim()).filter((l) => l !== '').at(-1) ?? '');
}
