import type { Writable } from 'node:stream';
import type { Style } from '../style.js';
import { fitHeight, renderTree } from './render.js';
import type { RunTree } from './tree.js';

/** For_each items the last frame lists one a line, in all; past that, their counts and the failed ones. */
export const LAST_FRAME_ITEMS = 1000;

/**
 * Redraws the run's tree in place on a terminal, ten times a second while something runs (so
 * that elapsed times move), and right away on each change. A frame never has more lines than the
 * terminal (moving the cursor up stops at its top), nor builds many more (a for_each's items past
 * that are counted); the last one, drawn once, shows every node, and the items up to LAST_FRAME_ITEMS.
 */
export class LiveView {
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly tree: RunTree,
    private readonly out: Writable & { columns?: number; rows?: number },
    private readonly style: Style,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.out.write('\u001b[?25l');
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
    this.draw();
  }

  draw(last = false): void {
    if (this.paused) return;
    const rows = Math.max(3, (this.out.rows || 40) - 1);
    const all = renderTree(this.tree, this.style, this.now(), this.out.columns || 120, this.frame++, last ? LAST_FRAME_ITEMS : rows);
    const lines = last ? all.map((l) => l.text) : fitHeight(all, rows);
    const up = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    // Clears what an earlier, taller frame left below this one.
    this.out.write(`${up}${lines.map((l) => `\r\u001b[2K${l}`).join('\n')}\n\u001b[J`);
    this.drawn = lines.length;
  }

  /** Stops redrawing while a prompt has the terminal. */
  pause(): void {
    this.draw();
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drawn = 0;
    this.draw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    this.out.write('\u001b[?25h');
  }
}
