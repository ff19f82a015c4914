/**
 * The semantics tables on Postgres (vitest.config.ts): one throw-away cluster for the run, with a
 * database that has the schema, which each harness's database is copied from.
 */
import type { TestProject } from 'vitest/node';
import { startCluster, type TestCluster } from '../../packages/store-postgres/test-cluster.mjs';

let cluster: TestCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startCluster({ maxConnections: 400 });
  const { openPostgresStore } = await import('@gantry/store-postgres');
  const template = await cluster.database('semantics_template');
  // Opened once, so the copies start with the schema migrated.
  const store = await openPostgresStore(template);
  await store.close();
  project.provide('gantryPostgres', { adminUrl: cluster.url('postgres'), template: 'semantics_template' });
}

export async function teardown(): Promise<void> {
  await cluster?.remove();
}
