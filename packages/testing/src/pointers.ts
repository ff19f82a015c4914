/** RFC 6901 pointers into a test file, and how a reader names the place one reaches. */

export function pointer(...segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function segmentsOf(at: string): string[] {
  return at === '' ? [] : at.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `a.b[2].c`: the path as one writes it in JavaScript or jq. */
export function dotted(segments: readonly string[]): string {
  return segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** `test "gate fails", expect.status` rather than `/tests/1/expect/status`. */
export function describeTestPointer(document: unknown, at: string): string {
  const segments = segmentsOf(at);
  if (segments.length === 0) return 'the test file';
  const [section, index, ...rest] = segments;
  if (section === 'tests' && index !== undefined) {
    const tests = (document as { tests?: unknown }).tests;
    const test = Array.isArray(tests) ? (tests[Number(index)] as { name?: unknown } | undefined) : undefined;
    const named = typeof test?.name === 'string' ? `test "${test.name}"` : `test #${index}`;
    return rest.length === 0 ? named : `${named}, ${dotted(rest)}`;
  }
  return dotted(segments);
}
