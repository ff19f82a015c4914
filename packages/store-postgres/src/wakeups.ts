/**
 * Wake-ups between peers: LISTEN on a connection of its own, which reconnects when lost (and
 * wakes its listener then: something may have been missed meanwhile). A hint only: behind a
 * transaction pooler no notification arrives, and polling finds the work.
 */
import type pg from 'pg';
import { createClient } from './connect.js';
import type { ResolvedStoreOptions } from './options.js';
import { WORK_CHANNEL } from './schema.js';

export function listenForWork(url: string, options: Pick<ResolvedStoreOptions, 'retryMaxMs' | 'connectTimeoutMs'>, onWake: () => void): () => Promise<void> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = () => {
    client = undefined;
    if (!stopped && retry === undefined) retry = setTimeout(connect, options.retryMaxMs);
  };
  const connect = async () => {
    retry = undefined;
    if (stopped) return;
    const c = createClient(url, options.connectTimeoutMs);
    client = c;
    c.on('notification', onWake);
    c.on('error', () => {
      void c.end().catch(() => {});
      if (client === c) again();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${WORK_CHANNEL}`);
      onWake();
    } catch {
      void c.end().catch(() => {});
      if (client === c) again();
    }
  };
  void connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
