import { createRequire } from 'node:module';
import type { Node as JsonNode, ParseError } from 'jsonc-parser';

/**
 * jsonc-parser, loaded when a diagnostic is first placed in a text: a valid file, parsed with
 * JSON.parse, never needs it (nor the 10 ms its load costs the gantry command).
 */
let positions: typeof import('jsonc-parser') | undefined;
const jsoncParser = () => (positions ??= createRequire(import.meta.url)('jsonc-parser') as typeof import('jsonc-parser'));

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

/**
 * A flow file's text, parsed with `JSON.parse` (the fast path) and mapped back to line and
 * column only when a diagnostic needs it: building the position tree costs about ten parses,
 * so valid files never pay for it.
 */
export class JsonSource {
  readonly text: string;
  private lineStarts: number[] | undefined;
  private tree: JsonNode | undefined;

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

  /**
   * Where the value at `pointer` starts. With `atKey`, where its property name starts (for
   * unknown keys). A pointer that goes past the document stops at the deepest value it reaches.
   */
  locate(pointer: string, atKey = false): Position {
    const root = (this.tree ??= this.positionTree());
    if (root === undefined) return { line: 1, column: 1 };
    let node: JsonNode = root;
    let property: JsonNode | undefined;
    for (const segment of splitPointer(pointer)) {
      const next = child(node, segment);
      if (next === undefined) break;
      property = next.property;
      node = next.value;
    }
    const offset = atKey && property?.children?.[0] ? property.children[0].offset : node.offset;
    return this.position(offset);
  }

  /** The position tree; a document nested too deeply for it (thousands of levels) has none. */
  private positionTree(errors: ParseError[] = []): JsonNode | undefined {
    try {
      return jsoncParser().parseTree(this.text, errors, STRICT);
    } catch (error) {
      if (error instanceof RangeError) return undefined;
      throw error;
    }
  }

  private syntaxProblems(error: unknown): SyntaxProblem[] {
    const errors: ParseError[] = [];
    this.positionTree(errors);
    const printCode = jsoncParser().printParseErrorCode;
    if (errors.length > 0) {
      // The recovering parser often reports two errors at one spot; the first says it best.
      const distinct = errors.filter((e, i) => i === 0 || e.offset !== errors[i - 1]!.offset);
      return distinct.map((e) => ({
        offset: e.offset,
        ...this.position(e.offset),
        message: PARSE_MESSAGES[printCode(e.error)] ?? printCode(e.error),
      }));
    }
    // The tolerant parser accepted what JSON.parse refused: fall back on JSON.parse's own words.
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : 0;
    return [{ offset, ...this.position(offset), message }];
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function child(node: JsonNode, segment: string): { value: JsonNode; property?: JsonNode } | undefined {
  if (node.type === 'array') {
    if (!/^(0|[1-9]\d*)$/.test(segment)) return undefined;
    const value = node.children?.[Number(segment)];
    return value === undefined ? undefined : { value };
  }
  if (node.type !== 'object' || node.children === undefined) return undefined;
  // JSON.parse keeps the last of duplicate keys, so the last one is the one that counts.
  for (let i = node.children.length - 1; i >= 0; i--) {
    const property = node.children[i]!;
    const [key, value] = property.children ?? [];
    if (key?.value === segment) return value === undefined ? { value: key, property } : { value, property };
  }
  return undefined;
}

/** RFC 6901 pointer segments, unescaped. */
export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Appends one segment to a pointer, escaped. */
export function joinPointer(pointer: string, segment: string | number): string {
  return `${pointer}/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
