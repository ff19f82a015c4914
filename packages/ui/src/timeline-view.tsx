import { useSignal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { now } from './clock-signal';
import { clock, duration } from './format';
import type { RunModel } from './run-tree';
import { axis, rows } from './timeline';

const LABEL = 190;

/**
 * One row per node attempt on a time axis. The long stretches when only a person or a timer was
 * awaited are cut short and labelled with how long they were, so that the work stays readable.
 */
export function TimelineView({ model, onSelect }: { model: RunModel; onSelect: (id: string) => void }) {
  void model.rev.value;
  const box = useRef<HTMLDivElement>(null);
  const width = useSignal(600);
  useLayoutEffect(() => {
    const el = box.current;
    if (el === null) return;
    const measure = () => (width.value = Math.max(200, el.clientWidth - LABEL - 24));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const order = model.graph.value?.nodes.map((n) => n.id) ?? [];
  const all = rows(model.fold, order);
  const running = all.some((r) => r.attempt.endedAt === undefined);
  const t = running ? now.value : (model.fold.finishedAt ?? Date.now());
  const a = axis(all, t, width.value);
  const w = width.value;
  return (
    <div class="timeline" ref={box}>
      {all.length === 0 ? (
        <p class="empty">Nothing has started yet.</p>
      ) : (
        <>
          <p class="muted">
            {all.length} attempts over {duration(a.end - a.start)}
            {a.gaps.length > 0 ? `; ${a.gaps.length} ${a.gaps.length === 1 ? 'wait is' : 'waits are'} cut short` : ''}.
          </p>
          <ol class="timeline-rows" aria-label="Attempts in the order they started">
            {all.map(({ node, attempt }) => {
              const x0 = a.x(attempt.startedAt);
              const x1 = Math.max(x0 + 2, a.x(attempt.endedAt ?? t));
              const name = `${node}${attempt.item === undefined ? '' : `[${attempt.item}]`}${attempt.attempt > 1 ? ` #${attempt.attempt}` : ''}`;
              const took = duration((attempt.endedAt ?? t) - attempt.startedAt);
              return (
                <li key={`${node}/${attempt.item ?? ''}/${attempt.attempt}/${attempt.startedAt}`} class="timeline-row">
                  <button type="button" class="link timeline-label" onClick={() => onSelect(node)} title={name}>
                    {name}
                  </button>
                  <span class="sr-only">
                    {' '}
                    started {clock(attempt.startedAt)}, took {took}, {attempt.outcome}
                  </span>
                  <svg class="timeline-track" width={w} height="18" aria-hidden="true" focusable="false">
                    <rect class={`bar outcome-${attempt.outcome}`} x={x0} y="3" width={x1 - x0} height="12" rx="2" />
                    {attempt.waits.map((wait, i) => {
                      const wx0 = a.x(wait.from);
                      const wx1 = Math.max(wx0 + 1, a.x(wait.to ?? t));
                      return <rect key={i} class={`wait wait-${wait.kind}`} x={wx0} y="3" width={wx1 - wx0} height="12" />;
                    })}
                  </svg>
                </li>
              );
            })}
          </ol>
          <svg class="timeline-axis" width={w} height="34" aria-hidden="true" focusable="false">
            <line x1="0" x2={w} y1="4" y2="4" />
            <text x="0" y="20">
              {clock(a.start)}
            </text>
            <text x={w} y="20" text-anchor="end">
              {clock(a.end)}
            </text>
            {a.gaps.map((g) => (
              <g key={g.from} class={`gap gap-${g.kind}`} transform={`translate(${g.x} 0)`}>
                <rect x="0" y="0" width="36" height="8" />
              </g>
            ))}
          </svg>
          {a.gaps.length > 0 ? (
            <ul class="gaps">
              {a.gaps.map((g) => (
                <li key={g.from}>
                  {clock(g.from)}–{clock(g.to)}: waited {duration(g.to - g.from)} {g.kind === 'approval' ? 'for a decision' : g.kind === 'timer' ? 'for a timer' : 'with nothing running'} (cut short)
                </li>
              ))}
            </ul>
          ) : null}
        </>
      )}
    </div>
  );
}
