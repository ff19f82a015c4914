/**
 * Graph algorithms over dense integer ids, iterative so that a 100,000-node chain cannot
 * overflow the stack.
 */

/** Strongly connected components that hold a cycle: more than one node, or a self-loop. */
export function cyclicComponents(adjacency: readonly (readonly number[])[]): number[][] {
  const n = adjacency.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const callNode: number[] = [];
  const callEdge: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    callNode.push(root);
    callEdge.push(0);
    while (callNode.length > 0) {
      const top = callNode.length - 1;
      const v = callNode[top]!;
      const edges = adjacency[v]!;
      const i = callEdge[top]!;
      if (i < edges.length) {
        callEdge[top] = i + 1;
        const w = edges[i]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callNode.push(w);
          callEdge.push(0);
        } else if (onStack[w] === 1 && index[w]! < low[v]!) {
          low[v] = index[w]!;
        }
        continue;
      }
      callNode.pop();
      callEdge.pop();
      if (callNode.length > 0) {
        const parent = callNode[callNode.length - 1]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
      if (low[v] !== index[v]) continue;
      const component: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.includes(v)) components.push(component.sort((a, b) => a - b));
    }
  }
  return components;
}

/** One cycle through `start` inside `component`, as node ids from start back to start. */
export function cycleThrough(start: number, component: readonly number[], adjacency: readonly (readonly number[])[]): number[] {
  const inside = new Set(component);
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of adjacency[v]!) {
      if (w === start) {
        const path = [v];
        for (let at = v; at !== start; ) {
          at = previous.get(at)!;
          path.push(at);
        }
        path.reverse();
        path.push(start);
        return path;
      }
      if (inside.has(w) && !previous.has(w) && w !== start) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Every node reachable from `starts` (breadth first). */
export function reachableFrom(starts: Iterable<number>, adjacency: readonly (readonly number[])[]): Uint8Array {
  const seen = new Uint8Array(adjacency.length);
  const queue: number[] = [];
  for (const s of starts) {
    if (seen[s] === 0) {
      seen[s] = 1;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    for (const w of adjacency[queue[head]!]!) {
      if (seen[w] === 0) {
        seen[w] = 1;
        queue.push(w);
      }
    }
  }
  return seen;
}

/** Kahn's topological order, stable in node order; undefined if the graph has a cycle. */
export function topologicalOrder(adjacency: readonly (readonly number[])[]): number[] | undefined {
  const n = adjacency.length;
  const indegree = new Int32Array(n);
  for (const edges of adjacency) for (const w of edges) indegree[w]!++;
  const order: number[] = [];
  for (let v = 0; v < n; v++) if (indegree[v] === 0) order.push(v);
  for (let head = 0; head < order.length; head++) {
    for (const w of adjacency[order[head]!]!) if (--indegree[w]! === 0) order.push(w);
  }
  return order.length === n ? order : undefined;
}
