/**
 * Credentials in connectors: looked up by name, and kept out of every message, log line and
 * result. A service can echo what it was sent (an error page quoting the Authorization header,
 * an echo endpoint), so scrubbing what comes back is as necessary as not printing what goes out.
 */
import { inspect } from 'node:util';
import { GantryError, isWebhookSecret, type ConnectorContext, type JsonValue } from '@gantry/engine';
import { usage, type CallSite } from './params.js';

/** What replaces a secret value wherever one is found. */
export const REDACTED = '[REDACTED]';

/** A credential as a connector uses it. Only `name` may ever be printed. */
export interface Credential {
  readonly name: string;
  /** The value without surrounding whitespace: an env var read from a file ends in a newline. */
  readonly value: string;
  /** Every form of the value to scrub: as stored and as trimmed. */
  readonly secrets: readonly string[];
  /**
   * The origins (`https://api.github.com`) it may be sent to, as declared; undefined when none
   * were given to the engine: then only the origins the connector was configured with.
   */
  readonly origins: readonly string[] | undefined;
}

/**
 * The credential `name` from the context, to be sent out; a USAGE error when it has no value,
 * since no retry will make it appear, and CREDENTIAL_REFUSED for a webhook's signing secret,
 * which is never sent out (DESIGN §11). Its value never enters the message.
 */
export function requireCredential(
  site: CallSite,
  ctx: Pick<ConnectorContext, 'credential' | 'credentialOrigins'>,
  name: string,
): Credential {
  if (isWebhookSecret(name)) {
    throw new GantryError('CREDENTIAL_REFUSED', `${site.service} ${site.action}: "${name}" is a webhook's signing secret, which checks what comes in and is never sent out; name another credential`);
  }
  const raw = ctx.credential(name);
  if (raw === undefined || raw.trim() === '') {
    throw usage(site, `the credential "${name}" is not configured (expected it under \`credentials\` in the configuration, found no value)`);
  }
  const value = raw.trim();
  return { name, value, secrets: raw === value ? [value] : [raw, value], origins: ctx.credentialOrigins?.(name) };
}

/**
 * Refuses (CREDENTIAL_REFUSED) a request that would carry `credential` — in a header, the URL
 * or the body — to an origin it may not be sent to: one of its declared origins, else one the
 * connector was configured with (`trusted`). Checked before every request, redirects included.
 * A request whose URL is the credential itself (a Slack webhook URL) goes where it says.
 */
export function checkCredentialOrigin(site: CallSite, credential: Credential | undefined, url: URL, carried: readonly string[], trusted: (url: URL) => boolean): void {
  if (credential === undefined || !credential.secrets.some((secret) => carried.some((part) => part.includes(secret)))) return;
  if (url.href === safeUrl(credential.value)?.href) return;
  const allowed = credential.origins === undefined ? trusted(url) : credential.origins.some((origin) => safeUrl(origin)?.origin === url.origin);
  if (allowed) return;
  const declared = credential.origins === undefined ? 'no origins were declared for it, and this is not the origin the connector was configured with' : `its declared origins are ${credential.origins.join(', ') || 'none'}`;
  throw new GantryError('CREDENTIAL_REFUSED', `${site.service} ${site.action}: the credential "${credential.name}" may not be sent to ${url.origin}: ${declared} (the configuration's credentials.${credential.name}.origins)`);
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** A value fit for an HTTP header: no control characters, which undici would refuse anyway. */
export function assertHeaderSafe(site: CallSite, credential: Credential): void {
  if (/[\u0000-\u001f\u007f]/.test(credential.value)) {
    throw usage(site, `the credential "${credential.name}" holds control characters; expected a token that fits in an HTTP header`);
  }
}

/** `text` with every secret replaced; longer secrets first, so one that contains another goes whole. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== '' && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** A JSON value with every secret in its strings (and keys) replaced. */
export function scrubJson<T extends JsonValue>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return scrubText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [scrubText(k, secrets), walk(inner)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * An error fit to be a `cause`: the original when no secret shows anywhere in it (message,
 * stack, nested causes, properties), else a plain copy with the secrets scrubbed from its message.
 */
export function safeCause(error: unknown, secrets: readonly string[]): unknown {
  const whole = inspect(error, { depth: 6 });
  if (!secrets.some((s) => s !== '' && whole.includes(s))) return error;
  const message = error instanceof Error ? error.message : String(error);
  const copy = new Error(scrubText(message, secrets));
  copy.name = error instanceof Error ? error.name : 'Error';
  return copy;
}
