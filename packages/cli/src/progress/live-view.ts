import type { Writable } from 'node:stream';
import type { Style } from '../style.js';
import type { Board } from './board.js';
import { renderRows } from './render.js';

/**
 * Redraws the board in place on a terminal, ten times a second while something runs (so that
 * elapsed times move), and right away on each change.
 */
export class LiveView {
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(
    private readonly board: Board,
    private readonly out: Writable & { columns?: number },
    private readonly style: Style,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.out.write('\u001b[?25l');
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
    this.draw();
  }

  draw(): void {
    if (this.paused) return;
    const lines = renderRows(this.board, this.style, this.now(), this.out.columns || 120, this.frame++);
    const up = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
    this.out.write(`${up}${lines.map((l) => `\r\u001b[2K${l}`).join('\n')}\n`);
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
    this.draw();
    this.out.write('\u001b[?25h');
  }
}
