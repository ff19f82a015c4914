/**
 * Icons as inline SVG paths (24×24): no icon font, and no symbol that a headless browser's fonts
 * may lack. Each stands beside a word, never alone.
 */
const PATHS: Record<string, string> = {
  check: 'M4 12.5l5 5L20 6.5',
  cross: 'M6 6l12 12M18 6L6 18',
  clock: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 7v5l3 3',
  person: 'M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM4 21c0-4 4-6 8-6s8 2 8 6',
  play: 'M8 5v14l11-7z',
  retry: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  skip: 'M5 12h11M12 6l6 6-6 6M20 5v14',
  undo: 'M9 14L4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3',
  dot: 'M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z',
  ban: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM5.6 5.6l12.8 12.8',
  shield: 'M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6z M8 12h8',
  warn: 'M12 3l10 18H2zM12 10v5M12 18v.5',
  zoomIn: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM21 21l-5-5M8 11h6M11 8v6',
  zoomOut: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM21 21l-5-5M8 11h6',
  fit: 'M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5',
  close: 'M6 6l12 12M18 6L6 18',
  live: 'M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6zM5 5a10 10 0 0 0 0 14M19 5a10 10 0 0 1 0 14',
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16, title }: { name: IconName; size?: number; title?: string }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden={title === undefined ? 'true' : undefined} role={title === undefined ? undefined : 'img'} focusable="false">
      {title === undefined ? null : <title>{title}</title>}
      <path d={PATHS[name]} />
    </svg>
  );
}
