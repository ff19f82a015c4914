import { describe, expect, it } from 'vitest';
import { closest, didYouMean, Vocabulary } from './suggest.js';

describe('closest', () => {
  it('suggests a likely typo and nothing far off', () => {
    expect(closest('timout', ['timeout', 'retry', 'join'])).toBe('timeout');
    expect(didYouMean('Human-Approval', ['human_approval', 'agent'])).toBe(' — did you mean "human_approval"?');
    expect(closest('deploy', ['timeout', 'retry'])).toBeUndefined();
    expect(didYouMean('x', [])).toBe('');
  });

  it('counts two letters swapped as one edit, as a typist makes them', () => {
    expect(closest('prot', ['port', 'host', 'base_path'])).toBe('port');
    expect(closest('tiemout', ['timeout', 'retry'])).toBe('timeout');
    expect(new Vocabulary(() => ['port', 'host']).closest('prot')).toBe('port');
    // One swap is one edit, not a licence for two.
    expect(closest('rpto', ['port'])).toBeUndefined();
  });

  it('agrees with the whole distance table on random names: stopping early at the limit loses no suggestion', () => {
    const osa = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
          const cost = a[i - 1] === b[j - 1] ? 0 : 1;
          d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
        }
      }
      return d[a.length]![b.length]!;
    };
    // The first of the nearest within one edit in three letters (and fewer than the word's length).
    const reference = (word: string, names: readonly string[]): string | undefined => {
      const limit = Math.max(1, Math.floor(word.length / 3)) + 1;
      let best: string | undefined;
      let bestDistance = limit;
      for (const name of names) {
        const d = osa(word.toLowerCase(), name.toLowerCase());
        if (d < bestDistance && d < word.length) [best, bestDistance] = [name, d];
      }
      return best;
    };
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
    const word = () => Array.from({ length: 1 + Math.floor(random() * 9) }, () => 'abcd'[Math.floor(random() * 4)]).join('');
    const names = Array.from({ length: 200 }, word);
    for (let i = 0; i < 500; i++) {
      const w = word();
      expect(closest(w, names), w).toBe(reference(w, names));
    }
  });
});

describe('Vocabulary', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `node_${i}`);

  it('suggests what closest suggests', () => {
    const words = new Vocabulary(() => ids);
    for (const word of ['node_12x', 'nod_1999', 'node-7', 'ndoe_42', 'unrelated_name', 'n']) {
      expect(words.closest(word), word).toBe(closest(word, ids));
    }
    expect(words.didYouMean('node_12x')).toBe(' — did you mean "node_12"?');
  });

  it('agrees with closest on random names, ties included', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
    const word = () => Array.from({ length: 1 + Math.floor(random() * 7) }, () => 'abcAB_'[Math.floor(random() * 6)]).join('');
    const names = Array.from({ length: 300 }, word);
    const words = new Vocabulary(() => names);
    for (let i = 0; i < 300; i++) {
      const w = word();
      expect(words.closest(w), w).toBe(closest(w, names));
    }
  });

  it('reads its names only when first asked', () => {
    let read = 0;
    const words = new Vocabulary(() => {
      read++;
      return ids;
    });
    expect(read).toBe(0);
    words.closest('node_1x');
    words.closest('node_2x');
    expect(read).toBe(1);
  });

  it('stops suggesting once its comparisons are spent, so that many unknown names cost linear time', () => {
    const words = new Vocabulary(() => ids, 5000);
    // Each question compares with the ~1000 names of its length or one off.
    const answers = Array.from({ length: 20 }, (_, i) => words.closest(`node_${i}x`));
    expect(answers[0]).toBe('node_0');
    expect(answers.filter((a) => a !== undefined).length).toBeLessThan(10);
    expect(answers[19]).toBeUndefined();
  });

  it('finds a name by its prefix', () => {
    const words = new Vocabulary(() => ['build-image', 'deploy', 'deploy-green', 'test']);
    expect(words.startingWith('deploy-')).toBe('deploy-green');
    expect(words.startingWith('build-')).toBe('build-image');
    expect(words.startingWith('lint-')).toBeUndefined();
  });
});
