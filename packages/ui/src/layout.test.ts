import { describe, expect, it } from 'vitest';
import { edgeText, layoutGraph, NODE_HEIGHT } from './layout';
import type { RunGraph } from './wire';

const node = (id: string) => ({ id, type: 'agent', join: 'any' as const, max_attempts: 1, detail: {} });

describe('layoutGraph', () => {
  it('places a gate\'s branches on one rank below it, each edge routed from its source to its target, with its label', () => {
    const graph: RunGraph = {
      name: 'g',
      hash: 'h1',
      nodes: ['gate', 'build', 'notify', 'end'].map(node),
      edges: [
        { index: 0, from: 'gate', to: 'build', condition: 'pass' },
        { index: 1, from: 'gate', to: 'notify', condition: 'fail' },
        { index: 2, from: 'build', to: 'end' },
        { index: 3, from: 'notify', to: 'end' },
      ],
      error_handlers: [],
    };
    const layout = layoutGraph(graph);
    const y = (id: string) => layout.nodes.get(id)!.y;
    expect(y('build')).toBe(y('notify'));
    expect(y('build')).toBeGreaterThan(y('gate') + NODE_HEIGHT);
    expect(y('end')).toBeGreaterThan(y('build') + NODE_HEIGHT);
    expect(layout.edges.map((e) => e.label?.text)).toEqual(['pass', 'fail', undefined, undefined]);
    for (const e of layout.edges) {
      expect(e.points[0]!.y).toBeLessThan(e.points.at(-1)!.y);
    }
    expect(layout.width).toBeGreaterThan(2 * 196);
    // Laid out once per flow version.
    expect(layoutGraph(graph)).toBe(layout);
  });

  it('writes an expression edge as "if …", cut short', () => {
    expect(edgeText('{% score > 8 %}')).toBe('if score > 8');
    expect(edgeText('{% $count(files) > 20 and $exists(x.y.z) %}')).toBe('if $count(files) > 20 an…');
    expect(edgeText(undefined)).toBeUndefined();
  });
});
