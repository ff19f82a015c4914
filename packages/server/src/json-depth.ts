import { httpError } from './http.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The nesting depth of JSON text, measured on its bytes as they arrive, without parsing them and
 * without recursion: brackets outside strings, one state carried from chunk to chunk. For any
 * text JSON.parse accepts this is exactly its depth (`{}` is 1, `[{}]` 2); for other text it
 * says nothing useful, and JSON.parse refuses it anyway. The bytes `"`, `\`, `[`, `]`, `{`, `}`
 * never occur inside a multi-byte UTF-8 character, so chunks may split anywhere.
 */
export class JsonDepthGauge {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Whether the text went deeper than the limit; the gauge stops measuring then. */
  exceeded = false;

  constructor(readonly limit: number) {}

  write(chunk: Uint8Array): void {
    if (this.exceeded) return;
    // Locals, not fields, in the loop: this runs over every byte of every body.
    let { depth, inString, escaped } = this;
    const limit = this.limit;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > limit) {
          this.exceeded = true;
          return;
        }
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }
}

/**
 * Parses a JSON body (after it was authenticated) that `gauge` has seen whole: 400 naming the
 * limit when it nests deeper than that (what reads a payload later — the journal, expressions —
 * recurses, and 45,000 levels would overflow its stack), 400 naming the syntax error when it is
 * not JSON.
 */
export function parseJson(body: Buffer, gauge: JsonDepthGauge, limitName: string): unknown {
  if (gauge.exceeded) throw httpError('PAYLOAD_TOO_DEEP', `the body nests JSON arrays and objects more than ${gauge.limit} deep, the limit (${limitName})`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw httpError('INVALID_JSON', `the body is not JSON: ${(error as Error).message}`);
  }
}
