/**
 * The `github` connector: reviews, commit statuses and comments through GitHub's REST API.
 * Params can be given one by one, or a webhook payload's objects can be passed as they come
 * (`repository`, `pull_request`, `number`), which is what a flow triggered by GitHub has at hand.
 */
import type { Connector, JsonObject, JsonValue } from '@gantry/engine';
import { clockOf, isRetryableStatus, parseJsonBody, send, statusFailure, type CallEnv, type IncomingAnswer, type OutgoingRequest } from './http-call.js';
import type { OutboundOptions } from './outbound.js';
import {
  asPositiveInteger,
  describeValue,
  isJsonObject,
  lookupAction,
  oneOf,
  optionalString,
  requiredString,
  resolveService,
  SERVICE_DEFAULTS,
  usage,
  type CallSite,
} from './params.js';
import { assertHeaderSafe, requireCredential, scrubJson } from './secrets.js';

/** Options of {@link githubConnector}. */
export interface GithubConnectorOptions extends OutboundOptions {
  /** The REST API root; GitHub Enterprise Server's is `https://<host>/api/v3`. @default "https://api.github.com" */
  readonly baseUrl?: string;
  /** The credential used when a node names no `authentication`. @default "github_token" */
  readonly credential?: string;
}

/** One REST call an action makes, and the fields of GitHub's answer worth returning. */
interface Plan {
  readonly path: string;
  readonly body: JsonObject;
  readonly fields: readonly string[];
}

const REVIEW_EVENTS = ['COMMENT', 'APPROVE', 'REQUEST_CHANGES'] as const;
const STATUS_STATES = ['error', 'failure', 'pending', 'success'] as const;
/** GitHub refuses a commit status description longer than this. */
const MAX_STATUS_DESCRIPTION = 140;

const ACTIONS: ReadonlyMap<string, (site: CallSite, params: JsonObject) => Plan> = new Map([
  ['create_pr_review', planReview],
  ['create_commit_status', planStatus],
  ['create_comment', planComment],
]);

/**
 * A connector for service `github`. Actions:
 * - `create_pr_review`: `repository` ("owner/name"), `pull_number`, `body`, `event`
 *   (APPROVE | REQUEST_CHANGES | COMMENT, default COMMENT), `commit_id?`; with no `body`, a
 *   gate's `checks` in the params are summarised as the body;
 * - `create_commit_status`: `repository`, `sha`, `state` (error | failure | pending | success),
 *   `context?` (default "gantry"), `description?`, `target_url?`;
 * - `create_comment`: `repository`, `issue_number`, `body`.
 *
 * Missing `repository`, `pull_number`, `issue_number` or `sha` are read from webhook-shaped
 * params: `repository.full_name`, `pull_request.number`, `number`, `issue.number`,
 * `pull_request.head.sha`. Returns `status` and the useful fields of GitHub's answer.
 */
/**
 * A run started by a GitHub webhook has the repository and the pull request in its trigger: the
 * node's own params come first, the payload's fill what they leave out.
 */
function withTriggerPayload(params: JsonObject, trigger: unknown): JsonObject {
  if (!isJsonObject(trigger)) return params;
  const fallback: JsonObject = {};
  for (const key of ['repository', 'pull_request', 'number', 'issue'] as const) {
    if (params[key] === undefined && trigger[key] !== undefined) fallback[key] = trigger[key]!;
  }
  return { ...fallback, ...params };
}

export function githubConnector(options: GithubConnectorOptions = {}): Connector {
  const { outbound, baseUrl, defaultCredential } = resolveService('githubConnector', options, SERVICE_DEFAULTS.github);
  return {
    service: 'github',
    async call(action, params, ctx) {
      const site: CallSite = { service: 'github', action };
      const plan = lookupAction(site, ACTIONS)(site, withTriggerPayload(params, ctx.trigger));
      const credential = requireCredential(site, ctx, ctx.authentication ?? defaultCredential);
      assertHeaderSafe(site, credential);
      const url = new URL(`${baseUrl}${plan.path}`);
      const req: OutgoingRequest = {
        method: 'POST',
        url,
        target: url.href,
        headers: {
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'gantry',
          'content-type': 'application/json',
          authorization: `Bearer ${credential.value}`,
        },
        body: JSON.stringify(plan.body),
      };
      const env = { site, outbound, ctx, secrets: credential.secrets, credential };
      const answer = await send(env, req);
      if (answer.status < 200 || answer.status > 299) {
        // A spent rate limit is a 403 (or 429) that a later attempt gets past.
        const limited = answer.status === 403 && (answer.headers['x-ratelimit-remaining'] === '0' || 'retry-after' in answer.headers);
        throw statusFailure(env, limited ? withRateLimitWait(env, answer) : answer, { detail: githubMessage(answer.text), retryable: limited || isRetryableStatus(answer.status) });
      }
      const body = parseJsonBody(env, answer);
      const picked: JsonObject = { status: answer.status };
      for (const field of plan.fields) {
        const value = isJsonObject(body) ? body[field] : undefined;
        if (value !== undefined) picked[field] = value;
      }
      return scrubJson(picked, credential.secrets);
    },
  };
}

/**
 * GitHub's primary rate limit says when it resets (`x-ratelimit-reset`, epoch seconds) rather than
 * sending Retry-After: the wait until then is what the node's retry should honour.
 */
function withRateLimitWait(env: Pick<CallEnv, 'ctx' | 'outbound'>, answer: IncomingAnswer): IncomingAnswer {
  const reset = Number(answer.headers['x-ratelimit-reset']);
  if (answer.retryAfterMs !== undefined || !Number.isSafeInteger(reset) || reset <= 0) return answer;
  const wait = Math.max(0, reset * 1000 - clockOf(env).now());
  return { ...answer, retryAfterMs: Math.min(wait, env.outbound.policy.maxRetryAfterMs) };
}

function planReview(site: CallSite, params: JsonObject): Plan {
  const { owner, name } = readRepository(site, params);
  const pullRequest = isJsonObject(params.pull_request) ? params.pull_request : {};
  const number = readNumber(site, params, 'pull_number', [pullRequest.number, params.number], 'the pull request');
  const event = oneOf(site, params, 'event', REVIEW_EVENTS, 'COMMENT');
  const body = optionalString(site, params, 'body') ?? gateSummary(params);
  // GitHub answers 422 for a comment or change request without a body: say so before calling.
  if (event !== 'APPROVE' && (body === undefined || body.trim() === '')) {
    throw usage(site, `expected \`body\` to be a non-empty string for a ${event} review, got ${describeValue(params.body)}`);
  }
  const commitId = optionalString(site, params, 'commit_id');
  return {
    path: `/repos/${owner}/${name}/pulls/${number}/reviews`,
    body: { event, ...(body === undefined ? {} : { body }), ...(commitId === undefined ? {} : { commit_id: commitId }) },
    fields: ['id', 'html_url', 'state', 'submitted_at', 'commit_id'],
  };
}

function planStatus(site: CallSite, params: JsonObject): Plan {
  const { owner, name } = readRepository(site, params);
  const pullRequest = isJsonObject(params.pull_request) ? params.pull_request : {};
  const head = isJsonObject(pullRequest.head) ? pullRequest.head : {};
  const sha = optionalString(site, params, 'sha') ?? (typeof head.sha === 'string' ? head.sha : undefined);
  if (sha === undefined || !/^[0-9a-f]{4,64}$/i.test(sha)) {
    throw usage(site, `expected \`sha\` (or a webhook payload's \`pull_request.head.sha\`) to be a commit SHA, got ${describeValue(params.sha ?? head.sha)}`);
  }
  if (params.state === undefined || params.state === null) {
    throw usage(site, `expected \`state\` to be one of ${STATUS_STATES.join(', ')}, got nothing`);
  }
  const state = oneOf(site, params, 'state', STATUS_STATES, 'pending');
  const context = optionalString(site, params, 'context') ?? 'gantry';
  const description = optionalString(site, params, 'description');
  const targetUrl = optionalString(site, params, 'target_url');
  const body: JsonObject = { state, context };
  if (description !== undefined) {
    body.description = description.length > MAX_STATUS_DESCRIPTION ? `${description.slice(0, MAX_STATUS_DESCRIPTION - 1)}…` : description;
  }
  if (targetUrl !== undefined) body.target_url = targetUrl;
  return {
    path: `/repos/${owner}/${name}/statuses/${sha}`,
    body,
    fields: ['id', 'url', 'state', 'context', 'description', 'target_url', 'created_at'],
  };
}

function planComment(site: CallSite, params: JsonObject): Plan {
  const { owner, name } = readRepository(site, params);
  const issue = isJsonObject(params.issue) ? params.issue : {};
  const pullRequest = isJsonObject(params.pull_request) ? params.pull_request : {};
  const number = readNumber(
    site,
    params,
    'issue_number',
    [params.pull_number, issue.number, pullRequest.number, params.number],
    'the issue or pull request',
  );
  const body = requiredString(site, params, 'body', ' (the comment, in Markdown)');
  return {
    path: `/repos/${owner}/${name}/issues/${number}/comments`,
    body: { body },
    fields: ['id', 'html_url', 'created_at'],
  };
}

/**
 * A review body from a gate's output (`outcome`, `checks`) when the node gives none: the design's
 * PR review follows `quality_gate` with no body of its own, and its input is the gate's result.
 */
function gateSummary(params: JsonObject): string | undefined {
  if (!Array.isArray(params.checks) || params.checks.length === 0) return undefined;
  const lines = params.checks.filter(isJsonObject).map((check) => {
    const mark = check.passed === true ? '✅' : '❌';
    const actual = check.missing === true ? 'missing' : JSON.stringify(check.actual);
    return `- ${mark} \`${String(check.metric)} ${String(check.operator)} ${JSON.stringify(check.expected)}\` (actual: ${actual})`;
  });
  const outcome = typeof params.outcome === 'string' ? params.outcome : params.passed === true ? 'pass' : 'fail';
  return [`**Quality gate: ${outcome}**`, '', ...lines].join('\n');
}

/** `owner/name` from `repository` as a string, or from a webhook payload's repository object. */
function readRepository(site: CallSite, params: JsonObject): { owner: string; name: string } {
  const given = params.repository;
  let fullName: JsonValue | undefined = given;
  if (isJsonObject(given)) {
    const owner = isJsonObject(given.owner) ? given.owner.login : undefined;
    fullName = given.full_name ?? (typeof owner === 'string' && typeof given.name === 'string' ? `${owner}/${given.name}` : undefined);
  } else if (given === undefined || given === null) {
    const pullRequest = isJsonObject(params.pull_request) ? params.pull_request : {};
    const base = isJsonObject(pullRequest.base) ? pullRequest.base : {};
    fullName = isJsonObject(base.repo) ? base.repo.full_name : undefined;
  }
  if (fullName === undefined || fullName === null) {
    throw usage(site, 'nothing to post to: expected `repository` ("owner/name") or a webhook payload\'s `repository.full_name`, found neither');
  }
  const match = typeof fullName === 'string' ? /^([\w.-]+)\/([\w.-]+)$/.exec(fullName) : null;
  // "." and ".." would be resolved away by the URL and post somewhere else entirely.
  if (match === null || [match[1], match[2]].some((part) => part === '.' || part === '..')) {
    throw usage(site, `expected \`repository\` to be "owner/name", got ${describeValue(fullName)}`);
  }
  return { owner: match[1]!, name: match[2]! };
}

/** The number `key`, else the first of `fallbacks` that is one; a given but malformed `key` is an error. */
function readNumber(site: CallSite, params: JsonObject, key: string, fallbacks: (JsonValue | undefined)[], what: string): number {
  const given = params[key];
  if (given !== undefined && given !== null) {
    const number = asPositiveInteger(given);
    if (number === undefined) throw usage(site, `expected \`${key}\` to be a positive integer, got ${describeValue(given)}`);
    return number;
  }
  for (const candidate of fallbacks) {
    const number = asPositiveInteger(candidate);
    if (number !== undefined) return number;
  }
  throw usage(site, `nothing to post to: expected \`${key}\` (or a webhook payload's \`pull_request.number\` / \`number\`) naming ${what}, found none`);
}

/** GitHub's error answer, `{ message, errors: [{ message | code }] }`, as one line; other bodies as they are. */
function githubMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isJsonObject(parsed) && typeof parsed.message === 'string') {
      const details = Array.isArray(parsed.errors)
        ? parsed.errors.map((e) => (isJsonObject(e) ? (e.message ?? e.code) : e)).filter((d) => typeof d === 'string')
        : [];
      return details.length === 0 ? parsed.message : `${parsed.message}: ${details.join('; ')}`;
    }
  } catch {
    // Not JSON (a proxy's HTML page): the excerpt of the raw text says more than nothing.
  }
  return text;
}
