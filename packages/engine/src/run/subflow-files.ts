/*
 * The flow files sub-flow nodes name, for one engine: each is read and compiled the first time a
 * run reaches it, and not again (a change to the file is seen by the next engine). Where a
 * reference leads is checked with the file system (symbolic links followed, DESIGN §11) once
 * too, with the flow compiled from it: every attempt and for_each item after the first costs
 * two string operations, not two realpath calls. A file that failed to load is forgotten with
 * its checks, so the next call checks it again before it reads it.
 */
import { isAbsolute, resolve } from 'node:path';
import type { CompiledFlow } from '../compile.js';
import { GantryError } from '../errors.js';
import { resolveFlowRef } from '../load.js';

export class SubflowFiles {
  readonly #load: (file: string) => Promise<CompiledFlow>;
  readonly #flows = new Map<string, Promise<CompiledFlow>>();
  /** For each file, the roots whose tree it was found in, links followed. */
  readonly #inside = new Map<string, Set<string>>();

  constructor(load: (file: string) => Promise<CompiledFlow>) {
    this.#load = load;
  }

  /**
   * The file a reference written in a flow of `base` (a folder) names, refused
   * (FLOW_REF_OUTSIDE) when it leaves `root`'s tree. The file is not read.
   */
  referenced(root: string, base: string, ref: string): string {
    const file = resolve(base, ref);
    // An absolute reference is refused even where it names a file a relative one found.
    if (!isAbsolute(ref) && this.#inside.get(file)?.has(root) === true) return file;
    const found = resolveFlowRef(root, base, ref);
    if (found.status === 'outside') {
      throw new GantryError('FLOW_REF_OUTSIDE', `sub-flow "${ref}" is ${isAbsolute(ref) ? 'an absolute path' : `outside ${root}`}: a flow may name flows in its folder tree only (symbolic links included)`);
    }
    if (found.status === 'found') {
      const roots = this.#inside.get(file);
      if (roots === undefined) this.#inside.set(file, new Set([root]));
      else roots.add(root);
    }
    return found.file;
  }

  /** The flow compiled from `file`, loaded the first time. */
  flow(file: string): Promise<CompiledFlow> {
    let load = this.#flows.get(file);
    if (load === undefined) {
      load = this.#load(file);
      this.#flows.set(file, load);
      load.catch(() => {
        this.#flows.delete(file);
        this.#inside.delete(file);
      });
    }
    return load;
  }
}
