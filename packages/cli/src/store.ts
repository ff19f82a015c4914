import { dirname, resolve } from 'node:path';
import type { SqliteStore } from '@gantry/store-sqlite';
import type { LoadedConfig } from './setup.js';

/** The run store's file: the configuration's `store.path` (relative to it), else .gantry/gantry.db here. */
export function storePath(loaded: LoadedConfig, cwd: string): string {
  const configured = loaded.config.store?.path;
  if (configured === undefined) return resolve(cwd, '.gantry', 'gantry.db');
  return resolve(loaded.path === undefined ? cwd : dirname(loaded.path), configured);
}

/**
 * Opens the store: `write` for commands that change runs (one process at a time), `read` for
 * those that only look (they work while another process runs flows).
 */
export async function openStore(loaded: LoadedConfig, cwd: string, mode: 'write' | 'read'): Promise<SqliteStore> {
  // Loaded on first use: `gantry validate` and `graph` never load SQLite.
  const { openSqliteStore } = await import('@gantry/store-sqlite');
  return openSqliteStore(storePath(loaded, cwd), { mode });
}
