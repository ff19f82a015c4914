/** The candidate closest to `word` by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = firstLimit(word);
  for (const candidate of candidates) {
    const d = boundedDistance(lower, candidate.toLowerCase(), bestDistance);
    if (d < bestDistance && d < word.length) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` — did you mean "x"?`, or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  return phrase(closest(word, candidates));
}

/**
 * The names of one file (its node ids, its params) for the suggestions of its diagnostics:
 * indexed by length once, on the first question, and rationed. Every unknown name is compared
 * with every name of about its length, so a file with thousands of unknown names would take
 * quadratic time; past `budget` comparisons no more suggestions are made (a file with that many
 * unknown names is not a typo), and validation stays linear.
 */
export class Vocabulary {
  #source: () => Iterable<string>;
  #byLength: Map<number, Entry[]> | undefined;
  #sorted: string[] | undefined;
  #budget: number;

  constructor(source: () => Iterable<string>, budget = 1_000_000) {
    this.#source = source;
    this.#budget = budget;
  }

  /** What {@link closest} answers (the first of the nearest, in the names' order), or undefined once the budget is spent. */
  closest(word: string): string | undefined {
    const byLength = (this.#byLength ??= indexByLength(this.#source()));
    const lower = word.toLowerCase();
    let best: Entry | undefined;
    // Past `limit`, a candidate cannot win; at it, it wins a tie by coming first.
    let limit = firstLimit(word) - 1;
    // A candidate whose length differs by d is at least d edits away: only near lengths can win.
    for (let delta = 0; delta <= limit; delta++) {
      for (const length of delta === 0 ? [word.length] : [word.length - delta, word.length + delta]) {
        const bucket = byLength.get(length);
        if (bucket === undefined) continue;
        if (this.#budget < bucket.length) return best?.word;
        this.#budget -= bucket.length;
        for (const candidate of bucket) {
          const d = boundedDistance(lower, candidate.lower, limit + 1);
          if (d >= word.length || d > limit || (d === limit && best !== undefined && candidate.index > best.index)) continue;
          best = candidate;
          limit = d;
        }
      }
    }
    return best?.word;
  }

  didYouMean(word: string): string {
    return phrase(this.closest(word));
  }

  /** The first name (in sort order) that starts with `prefix`, found by binary search. */
  startingWith(prefix: string): string | undefined {
    const sorted = (this.#sorted ??= [...this.#source()].sort());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    return sorted[lo]?.startsWith(prefix) ? sorted[lo] : undefined;
  }
}

function phrase(match: string | undefined): string {
  return match === undefined ? '' : ` — did you mean "${match}"?`;
}

/** A typo is about one edit in three letters; further than that, a suggestion misleads. */
function firstLimit(word: string): number {
  return Math.max(1, Math.floor(word.length / 3)) + 1;
}

interface Entry {
  readonly word: string;
  readonly lower: string;
  /** Its place among the names: of two as near, the first wins, as with {@link closest}. */
  readonly index: number;
}

function indexByLength(words: Iterable<string>): Map<number, Entry[]> {
  const byLength = new Map<number, Entry[]>();
  let index = 0;
  for (const word of words) {
    let bucket = byLength.get(word.length);
    if (bucket === undefined) byLength.set(word.length, (bucket = []));
    bucket.push({ word, lower: word.toLowerCase(), index: index++ });
  }
  return byLength;
}

/**
 * The edit distance of `a` and `b` when it is below `limit`, else some number ≥ `limit`. Two
 * letters swapped count as one edit (`prot` → `port`: optimal string alignment, Damerau's
 * restricted distance), as a typist makes them. A row whose every cell has reached the limit
 * cannot lead below it (the row before it is at most one less, and a swap costs one), so the work
 * stops there.
 */
function boundedDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let cell = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && cost === 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cell = Math.min(cell, before[j - 2]! + 1);
      current[j] = cell;
      if (cell < rowMin) rowMin = cell;
    }
    if (rowMin >= limit) return limit;
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
