import type { IncomingMessage } from 'node:http';
import { GantryError } from '@gantry/engine';
import { runEventsHandler, runsEventsHandler, whoamiHandler } from './live-api.js';
import { LiveFeed } from './live-feed.js';
import type { ResolvedServerOptions } from './options.js';
import type { Handler } from './router.js';
import { runGraphHandler } from './run-graph.js';
import { isUiPath, uiFiles, UI_PATH, type UiFiles } from './ui-files.js';
import { describeNode, type WebhookRoute } from './webhooks.js';

export interface UiMount {
  /** The UI's files, when the UI is on. */
  readonly files: UiFiles | undefined;
  readonly feed: LiveFeed;
}

/**
 * What the web UI needs of the server (DESIGN §10): its files under /ui, the live streams, the
 * flow graph of a run and who a token is. The streams and the graph are API routes like the
 * others (a bearer token each); only the files are public, and they hold no data.
 */
export function mountUi(
  o: ResolvedServerOptions,
  add: (method: string, pattern: string, handler: Handler) => void,
  principalOf: (req: IncomingMessage) => string,
): UiMount {
  const { engine } = o;
  const feed = new LiveFeed(engine, { heartbeatMs: o.heartbeatMs, throttleMs: 50, ...(o.cluster === undefined ? {} : { peers: o.cluster }) });
  const deps = { engine, principalOf, feed, heartbeatMs: o.heartbeatMs };
  add('GET', '/whoami', whoamiHandler(deps));
  add('GET', '/events', runsEventsHandler(deps));
  add('GET', '/runs/:id/events', runEventsHandler(deps));
  add('GET', '/runs/:id/graph', runGraphHandler(deps));
  return { files: o.ui === undefined ? undefined : uiFiles(o.ui.dir, o.basePath), feed };
}

/** A webhook under /ui would never be reached while the UI is on: refused at start, as other collisions are. */
export function refuseUiEndpoints(mount: UiMount, routes: readonly WebhookRoute[]): void {
  if (mount.files === undefined) return;
  const taken = routes.filter((r) => isUiPath(r.endpoint));
  if (taken.length > 0) {
    throw new GantryError('CONFIG_INVALID', `${describeNode(taken[0]!.flow, taken[0]!.nodeId)}: endpoint ${taken[0]!.endpoint} is under ${UI_PATH}, where the web UI is served; give the webhook another endpoint (or turn the UI off)`);
  }
}
