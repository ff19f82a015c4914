import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive } from '../../../../test/support/processes.js';
import { runTool } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'gantry-tools-'));
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const until = async (condition: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return condition();
};

describe('running a tool', () => {
  it('a cancelled tool is stopped with the processes it started (node --test runs each file in its own)', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    // A tool that starts a child of its own, as node --test does, and waits.
    const program = `const c = require('node:child_process').spawn(process.execPath, ['-e', 'require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 30000)'], { stdio: 'ignore' }); setTimeout(() => {}, 30000);`;
    const controller = new AbortController();
    const running = runTool(process.execPath, ['-e', program], { cwd: dir, signal: controller.signal });
    expect(await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '')).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    pids.push(grandchild);
    controller.abort(new Error('cancelled'));
    await expect(running).rejects.toThrow('cancelled');
    expect(await until(() => !alive(grandchild), 3000), `the tool's own child ${grandchild} outlived it`).toBe(true);
  }, 20_000);

  it('a tool past its time is stopped with its children too, and says it timed out', async () => {
    const pidFile = join(dir, 'grandchild2.pid');
    const program = `require('node:child_process').spawn(process.execPath, ['-e', 'require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 30000)'], { stdio: 'ignore' }); setTimeout(() => {}, 30000);`;
    const result = await runTool(process.execPath, ['-e', program], { cwd: dir, timeoutMs: 1000 });
    expect(result.timedOut).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    pids.push(grandchild);
    expect(await until(() => !alive(grandchild), 3000), `the tool's own child ${grandchild} outlived it`).toBe(true);
  }, 20_000);
});
