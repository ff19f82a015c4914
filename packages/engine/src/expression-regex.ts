/*
 * Every regular expression a flow or a payload can supply runs here, on re2js: RE2's semantics,
 * matching in time linear in the input (no backtracking, so no catastrophic pattern). A pattern
 * RE2 cannot run (a backreference, a lookaround, …) is refused with the reason, never handed to
 * V8's backtracking engine. Linear is not free: a match costs about (input length × program
 * size), so every match is charged to a budget before it runs.
 */
import { RE2JS } from 're2js';
import { GantryError } from './errors.js';

/**
 * How many (character × instruction) units of matching count as one evaluation step: about the
 * time JSONata takes for one step (a microsecond), measured on re2js's slowest path.
 */
export const REGEX_UNITS_PER_STEP = 64;

/** Where a match's cost is charged; throws when the budget is spent. */
export interface RegexMeter {
  charge(steps: number, what: string): void;
}

/** A pattern RE2 cannot run: `reason` says which feature, in words. */
export class RegexUnsupported extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`the regular expression /${pattern}/ ${reason}`);
  }
}

/** A match that would cost more than what is left of its budget, refused before it runs. */
export class RegexTooCostly extends Error {
  constructor(
    readonly pattern: string,
    readonly steps: number,
  ) {
    super(`matching /${shortPattern(pattern)}/ against this input would take about ${steps} steps`);
  }
}

interface Compiled {
  readonly re: RE2JS;
  /** RE2's program size: a match costs about input length × size. */
  readonly size: number;
}

const compiled = new Map<string, Compiled | RegexUnsupported>();

/** The RE2 form of a JavaScript pattern, or the feature that has none. */
function toRe2(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (next === 'u') {
        // \uXXXX and \u{X…}: RE2 spells them \x{…}.
        const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i + 2));
        const plain = /^[0-9A-Fa-f]{4}/.exec(source.slice(i + 2));
        if (braced) {
          out += `\\x{${braced[1]}}`;
          i += 1 + braced[0].length;
          continue;
        }
        if (plain) {
          out += `\\x{${plain[0]}}`;
          i += 5;
          continue;
        }
      }
      if (!inClass && next === 'k' && source[i + 2] === '<') throw new RegexUnsupported(source, 'uses a named backreference (\\k<…>), which RE2 cannot run');
      if (!inClass && next >= '1' && next <= '9') throw new RegexUnsupported(source, `uses a backreference (\\${next}), which RE2 cannot run`);
      out += c + next;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A leading ] or ^] belongs to the class in both syntaxes.
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const kind = source.slice(i + 2, i + 4);
      if (kind[0] === '=' || kind[0] === '!') throw new RegexUnsupported(source, `uses a lookahead ((?${kind[0]}…)), which RE2 cannot run`);
      if (kind === '<=' || kind === '<!') throw new RegexUnsupported(source, `uses a lookbehind ((?${kind}…)), which RE2 cannot run`);
      if (kind[0] === '<') {
        out += '(?P<';
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function flagBits(flags: string): number {
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  return bits;
}

/** Compiles a JavaScript pattern for RE2 once (by source and flags); throws {@link RegexUnsupported}. */
export function compileRegex(source: string, flags = ''): Compiled {
  const key = `${flagBits(flags)}/${source}`;
  let entry = compiled.get(key);
  if (entry === undefined) {
    try {
      const re = RE2JS.compile(toRe2(source), flagBits(flags));
      entry = { re, size: Math.max(1, re.programSize()) };
    } catch (error) {
      entry = error instanceof RegexUnsupported ? error : new RegexUnsupported(source, `is not one RE2 can run: ${reasonOf(error)}`);
    }
    // Patterns come from flows and payloads: the cache must not grow without bound.
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(key, entry);
  }
  if (entry instanceof RegexUnsupported) throw entry;
  return entry;
}

function reasonOf(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return message.replace(/^error parsing regexp: /, '');
}

/** Why RE2 cannot run a pattern, or undefined when it can (validation). */
export function regexProblem(source: string, flags = ''): string | undefined {
  try {
    compileRegex(source, flags);
    return undefined;
  } catch (error) {
    return (error as RegexUnsupported).reason;
  }
}

function shortPattern(pattern: string): string {
  return pattern.length > 40 ? `${pattern.slice(0, 37)}…` : pattern;
}

/** The steps a search through `span` characters costs with a program of `size` instructions. */
function stepsOf(span: number, size: number): number {
  return Math.ceil(((span + 1) * size) / REGEX_UNITS_PER_STEP);
}

/**
 * Whether `pattern` matches anywhere in `text` (the gate's `matches`), refused before it runs if
 * it would cost more than `maxSteps`. Throws {@link RegexUnsupported} or {@link RegexTooCostly}.
 */
export function regexMatches(pattern: string, text: string, maxSteps: number): boolean {
  const { re, size } = compileRegex(pattern);
  const steps = stepsOf(text.length, size);
  if (steps > maxSteps) throw new RegexTooCostly(pattern, steps);
  return re.test(text);
}

/**
 * A gate's `matches`: whether `pattern` matches anywhere in `text`, on RE2. A pattern RE2
 * cannot run fails with EXPRESSION_FAILED, a match that would take more than `maxSteps` with
 * EXPRESSION_LIMIT, each naming the pattern (validation refuses such a literal pattern earlier).
 */
export function matchesPattern(pattern: string, text: string, maxSteps: number): boolean {
  try {
    return regexMatches(pattern, text, maxSteps);
  } catch (error) {
    if (error instanceof RegexUnsupported) throw new GantryError('EXPRESSION_FAILED', `${error.message}; regular expressions run on a linear-time engine (RE2 syntax)`);
    if (error instanceof RegexTooCostly) throw new GantryError('EXPRESSION_LIMIT', `${error.message}, more than the ${maxSteps} allowed`);
    throw error;
  }
}

/** The constructor a guarded evaluation's regex literal gets built with: see {@link claimLastRegex}. */
let lastBuilt: LinearRegExp | undefined;

/**
 * The regex a JSONata evaluation just built, to charge its matches to that evaluation: JSONata
 * builds it and reaches the step's exit without awaiting, so nothing else can build one between.
 */
export function claimLastRegex(): LinearRegExp | undefined {
  const regex = lastBuilt;
  lastBuilt = undefined;
  return regex;
}

/**
 * A RegExp look-alike on RE2, the shape JSONata's `RegexEngine` option and its own internal uses
 * need: `exec` with `lastIndex` for global patterns, `test`, `source`, `flags`.
 */
export class LinearRegExp {
  lastIndex = 0;
  readonly source: string;
  readonly flags: string;
  /** The budget its matches are charged to; without one, each match alone must fit `fallbackSteps`. */
  meter: RegexMeter | undefined;
  readonly #compiled: Compiled;

  constructor(pattern: string | { source: string; flags: string }, flags?: string) {
    this.source = typeof pattern === 'string' ? pattern : pattern.source;
    this.flags = flags ?? (typeof pattern === 'string' ? '' : pattern.flags);
    this.#compiled = compileRegex(this.source, this.flags);
    lastBuilt = this;
  }

  /** Steps one match may take when no budget is attached (JSONata's own internal patterns). */
  static fallbackSteps = 1_000_000;

  get global(): boolean {
    return this.flags.includes('g');
  }

  exec(text: string): (string | undefined)[] & { index: number; input: string } | null {
    const input = String(text);
    const from = this.global ? this.lastIndex : 0;
    if (from > input.length) {
      this.lastIndex = 0;
      return null;
    }
    const steps = stepsOf(input.length - from, this.#compiled.size);
    if (this.meter !== undefined) this.meter.charge(steps, `matching /${shortPattern(this.source)}/`);
    else if (steps > LinearRegExp.fallbackSteps) throw new RegexTooCostly(this.source, steps);
    const matcher = this.#compiled.re.matcher(input);
    if (!matcher.find(from)) {
      if (this.global) this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let g = 0; g <= matcher.groupCount(); g++) groups.push(matcher.group(g) ?? undefined);
    if (this.global) this.lastIndex = matcher.end();
    return Object.assign(groups, { index: matcher.start(), input });
  }

  test(text: string): boolean {
    return this.exec(text) !== null;
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

/**
 * JSONata builds a few patterns of its own from what an expression says: a function signature's
 * (`function($a)<s+s+:s>{…}`) and `$toMillis`'s picture. On V8's engine both backtrack for ever
 * on a hostile call, so while JSONata parses an expression or runs such a function, `RegExp`
 * is this: RE2 for those patterns, V8's own for the regex literals it parses (JSONata adds `g`
 * to those; they run on {@link LinearRegExp} through the RegexEngine option, never on V8's).
 */
const NativeRegExp = RegExp;

/** The budget the patterns JSONata builds while swapped in are charged to, if any. */
let internalMeter: RegexMeter | undefined;

function InternalRegExp(pattern: string, flags?: string): unknown {
  if (flags !== undefined && flags.includes('g')) return new NativeRegExp(pattern, flags);
  const regex = SIGNATURE.test(pattern) && !flags ? new SignatureRegExp(pattern) : new LinearRegExp(pattern, flags);
  regex.meter = internalMeter;
  return regex;
}

/** What JSONata makes of a signature: `^([sm])([nm]+)…$`, one group per parameter. */
const SIGNATURE = /^\^(\([^()]*\))*\$$/;

/**
 * A signature's pattern. When it does not match, JSONata looks for the first argument that does
 * not fit by matching ever longer prefixes on V8's engine: that search is done here on RE2, and
 * its answer thrown as JSONata would (T0410, the argument's position).
 */
class SignatureRegExp extends LinearRegExp {
  override exec(text: string): ReturnType<LinearRegExp['exec']> {
    const match = super.exec(text);
    if (match !== null) return match;
    const params = this.source.slice(1, -1).match(/\([^()]*\)/g) ?? [];
    let prefix = '^';
    let goodTo = 0;
    for (const param of params) {
      prefix += param.slice(1, -1);
      const partial = new LinearRegExp(prefix).exec(text);
      if (partial === null) break;
      goodTo = partial[0]!.length;
    }
    throw { code: 'T0410', stack: new Error().stack, index: goodTo + 1 };
  }
}

/**
 * Runs `fn` (synchronous JSONata code) with `RegExp` meaning {@link InternalRegExp}, the matches
 * of what it builds charged to `meter`. Nothing else runs meanwhile: `fn` does not await.
 */
export function withLinearRegExp<T>(fn: () => T, meter?: RegexMeter): T {
  const global = globalThis as { RegExp: unknown };
  global.RegExp = InternalRegExp;
  internalMeter = meter;
  try {
    return fn();
  } finally {
    global.RegExp = NativeRegExp;
    internalMeter = undefined;
  }
}
