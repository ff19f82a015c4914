// What a flow may ask of build_containers (DESIGN §11): Dockerfiles inside the commit, a registry
// that is a host and a path. Refused before any repository, engine or file is touched.
import { describe, expect, it } from 'vitest';
import { systemClock, type AgentTask, type JsonObject } from '@gantry/engine';
import devops from './devops-manager.js';

const task = (inputs: JsonObject): AgentTask => ({ task_id: 'r:build:1', agent: 'devops', task: 'build_containers', inputs, run: { id: 'r', flow: 'f' }, node: 'build', attempt: 1 });
const build = (inputs: JsonObject) => devops.build_containers!(inputs, task(inputs), new AbortController().signal, { clock: systemClock });

describe('build_containers, on what the flow gives it', () => {
  it('refuses a Dockerfile outside the commit: absolute, climbing out, or through "." segments', async () => {
    for (const dockerfile of ['/etc/passwd', '../../../../etc/passwd', 'docker/../../x', './Dockerfile', '']) {
      await expect(build({ commit: 'v2', dockerfiles: [dockerfile] })).rejects.toThrow(`expected each of dockerfiles to be a path inside the commit (no absolute path, no "." or ".." segment), got ${JSON.stringify(dockerfile)}`);
    }
  });

  it('refuses a registry that is not a host and a path (a flag of the engine, spaces, a scheme)', async () => {
    for (const registry of ['--password=x', 'reg istry', 'https://registry.example.com', 'host:99999999']) {
      await expect(build({ commit: 'v2', dockerfiles: ['Dockerfile'], registry })).rejects.toThrow(/^expected registry to be a host with an optional port and path/);
    }
  });
});
