/**
 * Credentials in connectors: looked up by name, and kept out of every message, log line and
 * result. A service can echo what it was sent (an error page quoting the Authorization header,
 * an echo endpoint), so scrubbing what comes back is as necessary as not printing what goes out.
 */
import { inspect } from 'node:util';
import type { ConnectorContext, JsonValue } from '@gantry/engine';
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
}

/**
 * The credential `name` from the context; a USAGE error when it is not configured, since no
 * retry will make it appear. Its value never enters the message.
 */
export function requireCredential(
  site: CallSite,
  ctx: Pick<ConnectorContext, 'credential'>,
  name: string,
): Credential {
  const raw = ctx.credential(name);
  if (raw === undefined || raw.trim() === '') {
    throw usage(site, `the credential "${name}" is not configured (expected it under \`credentials\` in the configuration, found no value)`);
  }
  const value = raw.trim();
  return { name, value, secrets: raw === value ? [value] : [raw, value] };
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
