/**
 * @gantry/store-postgres: the run store several `gantry serve` peers share (DESIGN §9), on one
 * Postgres database; leases with epoch fencing, claims with FOR UPDATE SKIP LOCKED.
 */
export { openPostgresStore } from './open.js';
export type { PostgresStoreOptions, StoreLogger } from './options.js';
export type { PostgresStore, StoreStats, RunDropper } from './postgres-store.js';
export { PostgresPeer } from './peer.js';
export type { PeerOptions } from './peer.js';
export type { ReadyClaim } from './leases.js';
export type { HeadsAnswer, HeadsQuery, JournalHead, PeerInfo } from '@gantry/engine';
export { parseTarget } from './connect.js';
export type { Target } from './connect.js';
export { SCHEMA_VERSION, JOURNAL_FORMAT } from './schema.js';
