/**
 * testing-qa-validator: the repository's own tests, run for real. Unit tests with coverage on a
 * checkout (test_validation, run_unit_tests, test_review); integration tests against a running
 * service (run_integration_tests: the built image started for the purpose; integration_tests: the
 * staging deployment); smoke tests against a deployment (run_smoke_tests).
 */
import type { JsonObject, TaskOutput } from '@gantry/engine';
import { findArtifact, firstArtifact } from '../build/artifacts.js';
import { deploy, getDeployment, stopDeployment } from '../deploy/deployments.js';
import { smokeTests } from '../deploy/probes.js';
import { stateDir } from '../runtime/paths.js';
import { runIntegrationTests, runUnitTests } from '../source/node-tests.js';
import { checkout, openRepository, resolveCommit } from '../source/repository.js';
import { addressOf, changeOf, json, number, type Handler } from './common.js';

async function unitTests(inputs: JsonObject, signal: AbortSignal, output: TaskOutput | undefined) {
  const change = changeOf(inputs);
  const source = checkout(change.repo, change.commit);
  const run = await runUnitTests(source.dir, stateDir('reports', `${change.commit.id}-${source.digest.slice(0, 12)}`), signal, output);
  return { change, run };
}

/** The validation stage's coverage figure (and test counts) for the commit being deployed. */
const testValidation: Handler = async (inputs, _task, signal, context) => {
  const { change, run } = await unitTests(inputs, signal, context?.output);
  const passed = run.tests.failed === 0 && run.exit_code === 0;
  return { test_coverage: run.coverage.percent, unit_tests: { commit: change.commit.id, passed, tests: json(run.tests), coverage: json(run.coverage), reports: run.reports } };
};

const runUnit: Handler = async (inputs, _task, signal, context) => {
  const { change, run } = await unitTests(inputs, signal, context?.output);
  const threshold = number((inputs.test_config ?? {}) as JsonObject, 'coverage_threshold', 80);
  return {
    tests: json(run.tests),
    coverage: json(run.coverage),
    reports: run.reports,
    commit: change.commit.id,
    threshold,
    passed: run.tests.failed === 0 && run.exit_code === 0 && run.coverage.percent >= threshold,
    duration_ms: run.duration_ms,
  };
};

/** The build's image started on a free port, the repository's integration tests run against it, then stopped. */
const runIntegration: Handler = async (inputs, _task, signal, context) => {
  const artifact = firstArtifact(inputs.images);
  const repo = openRepository(artifact.manifest.repository);
  const source = checkout(repo, resolveCommit(repo, artifact.manifest.commit));
  const service = await deploy({ service: artifact.manifest.name, environment: 'test', artifact, ...(context?.output ? { output: context.output } : {}) });
  try {
    const run = await runIntegrationTests(source.dir, service.url, signal, context?.output);
    return { ...(json(run) as JsonObject), success: run.passed, image: artifact.manifest.image };
  } finally {
    await stopDeployment(service.id);
  }
};

/**
 * The complete pipeline's staging validation: the integration tests against the staging
 * deployment. Its result carries the staging deployment on (`staging`), for the production phase
 * that runs after the approval.
 */
const stagingIntegration: Handler = async (inputs, _task, signal, context) => {
  const { url, deployment_id } = await addressOf(inputs);
  const record = getDeployment(deployment_id);
  const artifact = findArtifact(record.image);
  const repo = openRepository(artifact.manifest.repository);
  const source = checkout(repo, resolveCommit(repo, artifact.manifest.commit));
  const run = await runIntegrationTests(source.dir, url, signal, context?.output);
  const { run_id: _ignored, ...staging } = inputs;
  return { passed: run.passed, tests: json(run.tests), failures: run.failures, environment: 'staging', staging: { ...staging, validation: json(run) } as JsonObject };
};

const runSmoke: Handler = async (inputs) => {
  const { url, deployment_id } = await addressOf(inputs);
  const smoke = await smokeTests(url);
  return { passed: smoke.passed, failed: smoke.failed, tests: json(smoke.tests), report: `${smoke.tests.length - smoke.failed}/${smoke.tests.length} smoke tests passed on ${url}`, ...(deployment_id ? { deployment_id } : {}) };
};

export default {
  test_validation: testValidation,
  test_review: testValidation,
  run_unit_tests: runUnit,
  run_integration_tests: runIntegration,
  integration_tests: stagingIntegration,
  run_smoke_tests: runSmoke,
};
