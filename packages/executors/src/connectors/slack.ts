/**
 * The `slack` connector: a message to a channel, through a bot token (`chat.postMessage`) or an
 * incoming webhook. Which one is decided by the credential itself, so a flow does not change
 * when an installation swaps one for the other: a value that is a URL is a webhook.
 */
import { GantryError, type Connector, type JsonObject, type JsonValue } from '@gantry/engine';
import {
  excerpt,
  parseJsonBody,
  send,
  statusFailure,
  type CallEnv,
  type OutgoingRequest,
} from './http-call.js';
import {
  describeValue,
  isJsonObject,
  lookupAction,
  oneOf,
  optionalString,
  resolveService,
  SERVICE_DEFAULTS,
  usage,
  type CallSite,
} from './params.js';
import type { OutboundOptions } from './outbound.js';
import { assertHeaderSafe, requireCredential, type Credential } from './secrets.js';

/** Options of {@link slackConnector}. */
export interface SlackConnectorOptions extends OutboundOptions {
  /** The Web API root, for bot tokens. @default "https://slack.com/api" */
  readonly baseUrl?: string;
  /** The credential used when a node names no `authentication`. @default "slack_token" */
  readonly credential?: string;
}

interface Message {
  readonly channel?: string;
  readonly text?: string;
  readonly blocks?: JsonValue[];
}

/** Both actions post one message; `send_notification` is the name the design document's flows use. */
const ACTIONS: ReadonlyMap<string, true> = new Map([
  ['send_notification', true],
  ['post_message', true],
]);

/** The only Slack error a retry gets past without risking a second copy of the message. */
const RETRYABLE_SLACK_ERRORS = new Set(['ratelimited']);

/**
 * A connector for service `slack`. Actions `send_notification` and `post_message` (the same):
 * params `channel` (required with a bot token), `text` (or `message`), `blocks?`, `severity?`
 * ("normal" | "high"; high prefixes the text with `:rotating_light:`). The credential (the node's
 * `authentication`, else {@link SlackConnectorOptions.credential}) is either a bot token or an
 * incoming-webhook URL. Returns `{ ok: true, channel, ts? }`.
 */
export function slackConnector(options: SlackConnectorOptions = {}): Connector {
  const { outbound, baseUrl, defaultCredential } = resolveService('slackConnector', options, SERVICE_DEFAULTS.slack);
  return {
    service: 'slack',
    async call(action, params, ctx) {
      const site: CallSite = { service: 'slack', action };
      lookupAction(site, ACTIONS);
      const message = readMessage(site, params, ctx.run);
      const credential = requireCredential(site, ctx, ctx.authentication ?? defaultCredential);
      assertHeaderSafe(site, credential);
      const webhook = webhookUrl(site, credential);
      if (webhook !== undefined) {
        // The whole URL is the secret: its normalised forms are scrubbed as well as the raw value.
        const secrets = [...credential.secrets, webhook.href, `${webhook.pathname}${webhook.search}`].filter((s) => s.length > 1);
        // The operator put this URL in the environment: its origin is trusted like a base URL.
        outbound.trust(webhook);
        return postToWebhook({ site, outbound, ctx, secrets, credential }, webhook, message);
      }
      return postWithToken({ site, outbound, ctx, secrets: credential.secrets, credential }, baseUrl, credential, message);
    },
  };
}

/**
 * The message to post. A node that names only a channel (the design document's notification
 * node) posts a line that says which flow, run and step it is.
 */
function readMessage(site: CallSite, params: JsonObject, run?: { id: string; flow: string; node: string }): Message {
  const channel = optionalString(site, params, 'channel');
  const explicit = optionalString(site, params, 'text') ?? optionalString(site, params, 'message');
  const given = explicit === undefined && run !== undefined && params.blocks === undefined ? `${run.flow}: ${run.node} — run ${run.id}` : explicit;
  const blocks = params.blocks;
  if (blocks !== undefined && blocks !== null && (!Array.isArray(blocks) || !blocks.every(isJsonObject))) {
    throw usage(site, `expected \`blocks\` to be a list of Block Kit objects, got ${describeValue(blocks)}`);
  }
  if ((given === undefined || given.trim() === '') && !Array.isArray(blocks)) {
    throw usage(site, `expected \`text\` (or \`message\`) to be a non-empty string, or \`blocks\`, got ${describeValue(params.text ?? params.message)}`);
  }
  const severity = oneOf(site, params, 'severity', ['normal', 'high'] as const, 'normal');
  const text = severity === 'high' ? `:rotating_light: ${given ?? ''}`.trim() : given;
  return {
    ...(channel === undefined ? {} : { channel }),
    ...(text === undefined ? {} : { text }),
    ...(Array.isArray(blocks) ? { blocks } : {}),
  };
}

/** The webhook URL when the credential is one; undefined for a token (`xoxb-…`). */
function webhookUrl(site: CallSite, credential: Credential): URL | undefined {
  if (!/^https?:\/\//i.test(credential.value)) return undefined;
  let url: URL;
  try {
    url = new URL(credential.value);
  } catch {
    throw usage(site, `the credential "${credential.name}" starts like a webhook URL but is not a valid URL`);
  }
  // Plain http would send the secret URL in clear; a loopback stand-in (tests, local dev) is the exception.
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.');
  if (url.protocol === 'http:' && !loopback) {
    throw usage(site, `the credential "${credential.name}" is a webhook URL over plain http; expected https://`);
  }
  return url;
}

async function postToWebhook(env: CallEnv, url: URL, message: Message): Promise<JsonObject> {
  const req: OutgoingRequest = {
    method: 'POST',
    url,
    target: 'the Slack incoming webhook',
    headers: { 'content-type': 'application/json', 'user-agent': 'gantry' },
    // A webhook is bound to its channel: only the text and blocks are sent.
    body: JSON.stringify({ text: message.text, blocks: message.blocks }),
  };
  const answer = await send(env, req);
  // Slack answers "ok" as text, or a status with an error word: invalid_payload, channel_not_found…
  if (answer.status < 200 || answer.status > 299) throw statusFailure(env, answer);
  return { ok: true, ...(message.channel === undefined ? {} : { channel: message.channel }) };
}

async function postWithToken(env: CallEnv, baseUrl: string, credential: Credential, message: Message): Promise<JsonObject> {
  if (message.channel === undefined || message.channel.trim() === '') {
    throw usage(env.site, 'expected `channel` (a channel ID or #name) with a bot token, got nothing; only a webhook URL knows its own channel');
  }
  const url = new URL(`${baseUrl}/chat.postMessage`);
  const req: OutgoingRequest = {
    method: 'POST',
    url,
    target: url.href,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'gantry',
      authorization: `Bearer ${credential.value}`,
    },
    body: JSON.stringify(message),
  };
  const answer = await send(env, req);
  if (answer.status < 200 || answer.status > 299) throw statusFailure(env, answer);
  const body = parseJsonBody(env, answer);
  if (!isJsonObject(body)) {
    throw new GantryError('CONNECTOR_FAILED', `slack ${env.site.action}: expected a JSON object from ${req.target}, got ${excerpt(answer.text, env.secrets)}`);
  }
  // The Web API reports failure in the body of an HTTP 200: { ok: false, error: "channel_not_found" }.
  if (body.ok !== true) {
    const error = typeof body.error === 'string' ? excerpt(body.error, env.secrets, 80) : 'no error given';
    const metadata = isJsonObject(body.response_metadata) ? body.response_metadata.messages : undefined;
    const details = Array.isArray(metadata) ? `: ${excerpt(metadata.filter((m) => typeof m === 'string').join('; '), env.secrets)}` : '';
    const retryable = RETRYABLE_SLACK_ERRORS.has(error);
    throw new GantryError('CONNECTOR_FAILED', `slack ${env.site.action}: Slack refused the message to ${message.channel}: ${error}${details}`, {
      retryable,
      ...(retryable && answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
    });
  }
  const channel = typeof body.channel === 'string' ? body.channel : message.channel;
  return { ok: true, channel, ...(typeof body.ts === 'string' ? { ts: body.ts } : {}) };
}
