import { parseTree, type Node as JsonNode } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { JsonSource, splitPointer } from './json-source.js';

/** Where a pointer starts, by jsonc-parser's tree: the reference the one-scan placing must agree with. */
function reference(source: JsonSource, text: string, pointer: string, atKey: boolean) {
  // The deepest value the pointer reaches, walking the tree; of duplicate keys the last.
  let node: JsonNode = parseTree(text)!;
  let property: JsonNode | undefined;
  let reached = 0;
  const segments = splitPointer(pointer);
  for (const segment of segments) {
    const next =
      node.type === 'array'
        ? node.children?.[Number(segment)]
        : node.children?.filter((p) => p.children?.[0]?.value === segment).at(-1)?.children?.[1];
    if (next === undefined) break;
    property = node.type === 'object' ? next.parent : undefined;
    node = next;
    reached++;
  }
  const key = atKey && reached === segments.length ? property?.children?.[0]?.offset : undefined;
  return source.position(key ?? node.offset);
}

describe('JsonSource.locateAll', () => {
  const text = JSON.stringify(
    {
      name: 'x',
      nodes: [
        { id: 'a', type: 'wait', data: { seconds: 1, nested: [1, [2, { deep: true }]] }, timout: 1 },
        { id: 'b/c', 'we~ird': { 'k/1': null } },
      ],
      edges: [],
      params: { '10': { type: 'number' }, a: {} },
    },
    null,
    2,
  );
  const source = new JsonSource(text);
  const places = [
    { pointer: '' },
    { pointer: '/nodes' },
    { pointer: '/nodes/0/timout', atKey: true },
    { pointer: '/nodes/0/data/nested/1/1/deep' },
    { pointer: '/nodes/0/data/nested/1/1/deep', atKey: true },
    { pointer: '/nodes/1/we~0ird/k~11' },
    { pointer: '/nodes/1/id', atKey: true },
    { pointer: '/nodes/0/data/missing/more' },
    { pointer: '/nodes/7/id' },
    { pointer: '/edges/0' },
    { pointer: '/params/10/type' },
    { pointer: '/params/a', atKey: true },
  ];

  it('places every pointer where the position tree does, in one scan', () => {
    const found = source.locateAll(places);
    places.forEach((place, i) => expect(found[i], place.pointer).toEqual(reference(source, text, place.pointer, place.atKey ?? false)));
  });

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    const dup = new JsonSource('{\n "a": 1,\n "a": 2\n}');
    expect(dup.locateAll([{ pointer: '/a' }, { pointer: '/a', atKey: true }])).toEqual([
      { line: 3, column: 7 },
      { line: 3, column: 2 },
    ]);
  });

  it('places everything at the start of a document nested too deeply to scan', () => {
    const deep = new JsonSource(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(deep.locateAll([{ pointer: '/0/0' }])).toEqual([{ line: 1, column: 1 }]);
  });
});
