/**
 * The built-in service connectors an `external_api` node calls (DESIGN §2.2). Registration stays
 * explicit (STYLE §2): pass `builtinConnectors()` — or the ones wanted — to the engine.
 */
import type { Connector } from '@gantry/engine';
import { githubConnector, type GithubConnectorOptions } from './github.js';
import { httpConnector, type HttpConnectorOptions } from './http.js';
import type { OutboundOptions } from './outbound.js';
import { prometheusConnector, type PrometheusConnectorOptions } from './prometheus.js';
import { slackConnector, type SlackConnectorOptions } from './slack.js';

export { githubConnector, httpConnector, prometheusConnector, slackConnector };
export type { GithubConnectorOptions, HttpConnectorOptions, PrometheusConnectorOptions, SlackConnectorOptions };

/** Options of {@link builtinConnectors}: the outbound policy they share, and each connector's own on top. */
export interface BuiltinConnectorOptions {
  /** The outbound policy of every connector; a connector's own options override it key by key. */
  readonly outbound?: OutboundOptions;
  readonly http?: HttpConnectorOptions;
  readonly github?: GithubConnectorOptions;
  readonly slack?: SlackConnectorOptions;
  readonly prometheus?: PrometheusConnectorOptions;
}

/** The `http`, `github`, `slack` and `prometheus` connectors, in that order. */
export function builtinConnectors(options: BuiltinConnectorOptions = {}): Connector[] {
  const shared = options.outbound ?? {};
  return [
    httpConnector({ ...shared, ...options.http }),
    githubConnector({ ...shared, ...options.github }),
    slackConnector({ ...shared, ...options.slack }),
    prometheusConnector({ ...shared, ...options.prometheus }),
  ];
}
