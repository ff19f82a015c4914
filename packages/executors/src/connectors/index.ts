/**
 * The built-in service connectors an `external_api` node calls (DESIGN §2.2). Registration stays
 * explicit (STYLE §2): pass `builtinConnectors()` — or the ones wanted — to the engine.
 */
import type { Connector } from '@gantry/engine';
import { githubConnector, type GithubConnectorOptions } from './github.js';
import { httpConnector, type HttpConnectorOptions } from './http.js';
import { slackConnector, type SlackConnectorOptions } from './slack.js';

export { githubConnector, httpConnector, slackConnector };
export type { GithubConnectorOptions, HttpConnectorOptions, SlackConnectorOptions };
export type { ConnectorLimitOptions } from './params.js';

/** Options of {@link builtinConnectors}: each connector's own, by service. */
export interface BuiltinConnectorOptions {
  readonly http?: HttpConnectorOptions;
  readonly github?: GithubConnectorOptions;
  readonly slack?: SlackConnectorOptions;
}

/** The `http`, `github` and `slack` connectors, in that order. */
export function builtinConnectors(options: BuiltinConnectorOptions = {}): Connector[] {
  return [httpConnector(options.http), githubConnector(options.github), slackConnector(options.slack)];
}
