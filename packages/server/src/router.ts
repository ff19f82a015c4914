import type { IncomingMessage, ServerResponse } from 'node:http';
import { GantryError } from '@gantry/engine';

/** What a handler is given: the request, the response, the path's parameters and the URL. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  readonly method: string;
  /** `/runs/:id`, or a literal path such as a webhook's endpoint. Also the metrics' `endpoint` label. */
  readonly pattern: string;
  readonly handler: Handler;
  /** Who added it, for conflict messages: `the server`, `flow "X" node "hook"`. */
  readonly owner: string;
  /** The server's own route: no other route may overlap it, whatever its method. */
  readonly reserved?: boolean;
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined;

type Segment = string | { param: string };

function segmentsOf(path: string): string[] {
  // One trailing slash is ignored: /deploy/webhook/ is /deploy/webhook.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

function compile(pattern: string): Segment[] {
  return segmentsOf(pattern).map((s) => (s.startsWith(':') ? { param: s.slice(1) } : s));
}

function matchSegments(segments: readonly Segment[], path: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = segments[i]!;
    const got = path[i]!;
    if (typeof want === 'string') {
      if (want !== got) return undefined;
      continue;
    }
    if (got === '') return undefined;
    try {
      params[want.param] = decodeURIComponent(got);
    } catch {
      return undefined;
    }
  }
  return params;
}

/**
 * Method + path → handler. Literal paths and `:param` segments; no wildcards, no regular
 * expressions, so that a route that would shadow another is refused when it is added.
 */
export class Router {
  private readonly routes: { route: Route; segments: Segment[] }[] = [];

  add(route: Route): void {
    const segments = compile(route.pattern);
    for (const other of this.routes) {
      const shared = other.route.pattern === route.pattern && other.route.method !== route.method && !route.reserved && !other.route.reserved;
      if (overlaps(segments, other.segments) && !shared) {
        throw new GantryError(
          'CONFIG_INVALID',
          `${route.owner}: ${route.method} ${route.pattern} collides with ${other.route.method} ${other.route.pattern} of ${other.route.owner}; give the webhook another endpoint`,
        );
      }
    }
    this.routes.push({ route, segments });
  }

  /**
   * The route of a request. HEAD takes the server's own GET routes (answered without a body), not
   * a GET webhook's: a HEAD request, sent by link checkers and monitors, never starts a run.
   */
  match(method: string, pathname: string): Match {
    const path = segmentsOf(pathname);
    const allowed: string[] = [];
    for (const { route, segments } of this.routes) {
      const params = matchSegments(segments, path);
      if (params === undefined) continue;
      const head = route.method === 'GET' && route.reserved === true;
      if (route.method === method || (head && method === 'HEAD')) return { route, params };
      allowed.push(route.method);
      if (head) allowed.push('HEAD');
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }

  list(): readonly Route[] {
    return this.routes.map((r) => r.route);
  }
}

/**
 * Two patterns overlap when some path matches both. Overlapping routes are refused, except
 * webhooks on one path with different methods: a webhook never takes a path of the server's own
 * (POST /runs/x would make GET /runs/x answer 405).
 */
function overlaps(a: readonly Segment[], b: readonly Segment[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((s, i) => {
    const t = b[i]!;
    return typeof s !== 'string' || typeof t !== 'string' || s === t;
  });
}
