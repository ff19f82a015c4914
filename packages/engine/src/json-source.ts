import { createRequire } from 'node:module';
import type { ParseErrorCode } from 'jsonc-parser';

/**
 * jsonc-parser, loaded when a diagnostic is first placed in a text: a valid file, parsed with
 * JSON.parse, never needs it (nor the 10 ms its load costs the gantry command).
 */
let jsonc: typeof import('jsonc-parser') | undefined;
const jsoncParser = () => (jsonc ??= createRequire(import.meta.url)('jsonc-parser') as typeof import('jsonc-parser'));

/** 1-based line and column of an offset. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface SyntaxProblem extends Position {
  readonly offset: number;
  readonly message: string;
}

const STRICT = { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false } as const;

const PARSE_MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected a colon after the property name',
  CommaExpected: 'expected a comma',
  CloseBraceExpected: 'expected } to close the object',
  CloseBracketExpected: 'expected ] to close the array',
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string (control characters must be escaped)',
};

/** A place in the document to find: a JSON pointer, at its value or at its property name. */
export interface Place {
  readonly pointer: string;
  readonly atKey?: boolean;
}

/**
 * A flow file's text, parsed with `JSON.parse` (the fast path) and mapped back to line and
 * column only when a diagnostic needs it, in one scan for all of them: valid files never pay for
 * it, and a file with a million problems is placed in linear time, without a tree of the whole
 * document.
 */
export class JsonSource {
  readonly text: string;
  private lineStarts: number[] | undefined;

  constructor(text: string) {
    // A byte-order mark (Windows editors write one) is read as a space: offsets stay the same.
    this.text = text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
  }

  /** The parsed value, or the syntax problems (every one the parser could recover from). */
  parse(): { ok: true; value: unknown } | { ok: false; problems: SyntaxProblem[] } {
    try {
      return { ok: true, value: JSON.parse(this.text) };
    } catch (error) {
      return { ok: false, problems: this.syntaxProblems(error) };
    }
  }

  position(offset: number): Position {
    const starts = (this.lineStarts ??= computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  /** Where one place starts, as line and column (see {@link offsetsOf}; for many, {@link locateAll}). */
  locate(pointer: string, atKey = false): Position {
    return this.position(this.offsetsOf([{ pointer, atKey }])[0]!);
  }

  /** Where each place starts, as line and column (see {@link offsetsOf}). */
  locateAll(places: readonly Place[]): Position[] {
    return Array.from(this.offsetsOf(places), (offset) => this.position(offset));
  }

  /**
   * Where each place's value starts, as an offset in the text; with `atKey`, where its property
   * name starts (for unknown keys). A pointer that goes past the document stops at the deepest
   * value it reaches. A document nested too deeply to scan (thousands of levels) places
   * everything at its start.
   */
  offsetsOf(places: readonly Place[]): Float64Array {
    // Nothing to place (a valid file): no scan, and jsonc-parser is not even loaded.
    if (places.length === 0) return new Float64Array(0);
    // The places' pointers as a tree of segments: the scan follows only its branches.
    const root = newSpot();
    const ends = places.map(({ pointer }) => {
      let spot = root;
      for (const segment of splitPointer(pointer)) {
        let next = (spot.children ??= new Map()).get(segment);
        if (next === undefined) spot.children.set(segment, (next = newSpot(spot)));
        spot = next;
      }
      return spot;
    });
    const offsets = new Float64Array(places.length);
    try {
      scanOffsets(this.text, root);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return offsets;
    }
    places.forEach(({ atKey }, i) => {
      let spot = ends[i]!;
      if (atKey && spot.key >= 0) return void (offsets[i] = spot.key);
      // A pointer past the document stops at the deepest value it reaches.
      while (spot.value < 0 && spot.parent !== undefined) spot = spot.parent;
      offsets[i] = Math.max(0, spot.value);
    });
    return offsets;
  }

  private syntaxProblems(error: unknown): SyntaxProblem[] {
    const errors: { error: ParseErrorCode; offset: number }[] = [];
    try {
      jsoncParser().visit(this.text, { onError: (code, offset) => void errors.push({ error: code, offset }) }, STRICT);
    } catch (cause) {
      if (!(cause instanceof RangeError)) throw cause;
    }
    if (errors.length > 0) {
      const printCode = jsoncParser().printParseErrorCode;
      const problems = errors.map((e) => {
        const code = printCode(e.error);
        const comma = code === 'ValueExpected' || code === 'PropertyNameExpected' ? trailingComma(this.text, e.offset) : -1;
        // The parser stops at the bracket; the mistake is the comma before it (JavaScript allows it, JSON does not).
        if (comma >= 0) return { offset: comma, message: `trailing comma: JSON allows none after the last ${this.text[e.offset] === ']' ? 'item of an array' : 'property of an object'} (remove it)` };
        return { offset: e.offset, message: PARSE_MESSAGES[code] ?? code };
      });
      // The recovering parser often reports two errors at one spot; the first says it best.
      return problems.filter((e, i) => i === 0 || e.offset !== problems[i - 1]!.offset).map((e) => ({ ...e, ...this.position(e.offset) }));
    }
    // The tolerant parser accepted what JSON.parse refused: fall back on JSON.parse's own words.
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : 0;
    return [{ offset, ...this.position(offset), message }];
  }
}

/** The offset of the comma that a closing bracket at `offset` follows (blanks between), or -1. */
function trailingComma(text: string, offset: number): number {
  if (text[offset] !== ']' && text[offset] !== '}') return -1;
  let at = offset - 1;
  while (at >= 0 && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) at--;
  return text[at] === ',' ? at : -1;
}

/** A place the scan looks for: where its value and its property name start (-1: not seen). */
interface Spot {
  readonly parent: Spot | undefined;
  children: Map<string, Spot> | undefined;
  value: number;
  key: number;
}

function newSpot(parent?: Spot): Spot {
  return { parent, children: undefined, value: -1, key: -1 };
}

/**
 * Records where the spots' values (and property names) start, in one scan of the text, without
 * building a pointer for each value; the subtrees that hold no spot are scanned, not followed.
 * Of duplicate keys the last counts, as with JSON.parse.
 */
function scanOffsets(text: string, root: Spot): void {
  /** The open containers: their spot (if wanted), and the next item's index (an array) or the current property's spot (an object). */
  const stack: { spot: Spot | undefined; array: boolean; index: number; property: Spot | undefined }[] = [];
  const valueAt = (offset: number): Spot | undefined => {
    const parent = stack[stack.length - 1];
    const spot = parent === undefined ? root : parent.array ? parent.spot?.children?.get(String(parent.index++)) : parent.property;
    if (spot !== undefined) spot.value = offset;
    return spot;
  };
  const open = (array: boolean) => (offset: number) => {
    const spot = valueAt(offset);
    stack.push({ spot, array, index: 0, property: undefined });
    return spot?.children !== undefined;
  };
  jsoncParser().visit(
    text,
    {
      onObjectBegin: open(false),
      onArrayBegin: open(true),
      onObjectEnd: () => void stack.pop(),
      onArrayEnd: () => void stack.pop(),
      onObjectProperty: (property, offset) => {
        const parent = stack[stack.length - 1]!;
        parent.property = parent.spot?.children?.get(property);
        if (parent.property !== undefined) parent.property.key = offset;
      },
      onLiteralValue: (_value, offset) => void valueAt(offset),
    },
    STRICT,
  );
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** RFC 6901 pointer segments, unescaped. */
export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A pointer as a dotted path of its segments, unescaped (`agents.ops/ci.module`); `whole` names the document's root. */
export function dottedPath(pointer: string, whole: string): string {
  const segments = splitPointer(pointer);
  return segments.length === 0 ? whole : segments.join('.');
}

/** Appends one segment to a pointer, escaped. */
export function joinPointer(pointer: string, segment: string | number): string {
  return `${pointer}/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
