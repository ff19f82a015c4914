/**
 * @gantry/store-sqlite: the embedded durable run store (DESIGN §3.6), one SQLite file per
 * installation, one writing process at a time.
 */
export { openSqliteStore } from './open.js';
export type { SqliteStoreOptions } from './open.js';
export type { SqliteStore, StoreMode } from './sqlite-store.js';
export { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
