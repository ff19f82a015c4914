import type { IncomingMessage } from 'node:http';
import type { Engine } from '@gantry/engine';
import { sendJson } from './http.js';
import type { LiveFeed } from './live-feed.js';
import type { Handler } from './router.js';
import { formatCursor, parseCursor } from './run-cursor.js';
import { getRecord } from './runs-api.js';
import { openSse, wantsJson } from './sse.js';

export interface LiveApiDeps {
  readonly engine: Engine;
  readonly principalOf: (req: IncomingMessage) => string;
  readonly feed: LiveFeed;
  readonly heartbeatMs: number;
  /** How long a browser waits before it reconnects a dropped stream. @default 2000 */
  readonly retryMs?: number;
}

function lastEventId(req: IncomingMessage): string | undefined {
  const header = req.headers['last-event-id'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * GET /runs/:id/events: the journal of a run and of its sub-flow runs as Server-Sent Events,
 * from `Last-Event-ID` (a reconnect) or `?after=` (a page that has read the run), then live; each
 * frame's id is the position to resume from. The stream ends (`event: end`) once the run has.
 * With `Accept: application/json` (or `?poll=true`) it answers at once with what is new: the
 * polling a page falls back to when a proxy holds streams back.
 */
export function runEventsHandler({ engine, principalOf, feed, heartbeatMs, retryMs = 2000 }: LiveApiDeps): Handler {
  return async ({ req, res, params, url }) => {
    principalOf(req);
    const root = (await getRecord(engine, params.id!)).runId;
    const cursor = parseCursor(root, lastEventId(req) ?? url.searchParams.get('after'));
    if (wantsJson(req, url)) {
      // The status first: when it says finished, the journals read after it hold the last events.
      const finished = (await feed.finalStatus(root)) !== undefined;
      const batches = await feed.backlog(root, cursor);
      sendJson(res, 200, { run_id: root, cursor: formatCursor(root, cursor), batches, finished, heartbeat_ms: heartbeatMs });
      return;
    }
    const stream = openSse(req, res, retryMs);
    stream.send({ event: 'hello', data: { run_id: root, heartbeat_ms: heartbeatMs } });
    await feed.followRun(root, stream, cursor);
  };
}

/** GET /events: each change of a run's line in the runs list (`event: run`, the line as GET /runs?details=true gives it). */
export function runsEventsHandler({ principalOf, feed, retryMs = 2000 }: LiveApiDeps): Handler {
  return async ({ req, res }) => {
    principalOf(req);
    await feed.followRuns(openSse(req, res, retryMs), lastEventId(req));
  };
}

/** GET /whoami: the principal the bearer token is, and its roles: how the web UI signs in. */
export function whoamiHandler({ engine, principalOf }: Pick<LiveApiDeps, 'engine' | 'principalOf'>): Handler {
  return ({ req, res }) => {
    const principal = principalOf(req);
    const directory = engine.options.principals as Record<string, { roles?: readonly string[] }> | undefined;
    const roles = directory === undefined || Object.keys(directory).length === 0 ? [principal] : [...(directory[principal]?.roles ?? [])];
    sendJson(res, 200, { principal, roles });
  };
}
