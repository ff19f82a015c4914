import { SseParser, type SseFrame } from './sse-parse';

/**
 * Follows a live stream of the server (Server-Sent Events, read with fetch so that the bearer
 * token goes in a header, which EventSource cannot send). It reconnects after a drop from the
 * last position it was given (`Last-Event-ID`), and falls back to polling when frames do not
 * arrive — a proxy that buffers the stream, say — then tries streaming again later.
 */

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'ended' | 'failed';

export interface FollowOptions {
  /** The stream's URL. */
  readonly url: string;
  readonly headers: () => Record<string, string>;
  /** The position to resume from (the last frame id applied), sent as Last-Event-ID. */
  readonly position: () => string | undefined;
  readonly onFrame: (frame: SseFrame) => void;
  /** One poll instead of the stream: applies what is new; true once there is nothing more to come. */
  readonly poll: (signal: AbortSignal) => Promise<boolean>;
  readonly onState: (state: LinkState, detail?: string) => void;
  /** A response the stream cannot go on after (401, 404): it stops with this error. */
  readonly onFatal?: (status: number, response: Response) => void;
  readonly fetch?: typeof fetch;
  /** How long to wait for the first frame (the server's hello) before taking the stream for held back. @default 5000 */
  readonly helloMs?: number;
  /** Silence (not even a heartbeat) after which the stream counts as dead, when the server says no heartbeat. @default 40000 */
  readonly silenceMs?: number;
  /** Between polls. @default 2000 */
  readonly pollMs?: number;
  /** How long to poll before trying the stream again. @default 30000 */
  readonly pollForMs?: number;
  /** The first delay before a reconnect; it doubles up to 10 s. @default 1000 */
  readonly retryMs?: number;
}

export interface Follower {
  stop(): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export function follow(o: FollowOptions): Follower {
  const stopped = new AbortController();
  const doFetch = o.fetch ?? fetch.bind(globalThis);
  let silenceMs = o.silenceMs ?? 40_000;

  /** One connection: 'ended' (the server said so), 'dropped' after frames came, 'silent' if none did, or 'fatal'. */
  async function stream(first: boolean): Promise<'ended' | 'dropped' | 'silent' | 'fatal'> {
    o.onState(first ? 'connecting' : 'reconnecting');
    const attempt = new AbortController();
    const onStop = () => attempt.abort();
    stopped.signal.addEventListener('abort', onStop);
    let framed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watch = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => attempt.abort(), ms);
    };
    try {
      watch(o.helloMs ?? 5000);
      const position = o.position();
      const res = await doFetch(o.url, {
        headers: { accept: 'text/event-stream', ...o.headers(), ...(position ? { 'last-event-id': position } : {}) },
        signal: attempt.signal,
        cache: 'no-store',
      });
      if (res.status === 401 || res.status === 403 || res.status === 404) {
        o.onFatal?.(res.status, res);
        return 'fatal';
      }
      if (!res.ok || res.body === null) return 'silent';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return framed ? 'dropped' : 'silent';
        const frames = parser.push(value);
        // Any byte, a heartbeat included, shows the stream is alive.
        if (framed) watch(silenceMs);
        for (const frame of frames) {
          if (!framed) {
            framed = true;
            o.onState('live');
          }
          if (frame.event === 'hello') {
            const hb = (JSON.parse(frame.data) as { heartbeat_ms?: number }).heartbeat_ms;
            if (typeof hb === 'number') silenceMs = Math.max(hb * 2.5, 1000);
          }
          watch(silenceMs);
          o.onFrame(frame);
          if (frame.event === 'end') return 'ended';
        }
      }
    } catch {
      return framed ? 'dropped' : 'silent';
    } finally {
      clearTimeout(timer);
      stopped.signal.removeEventListener('abort', onStop);
      attempt.abort();
    }
  }

  async function pollFor(ms: number): Promise<boolean> {
    o.onState('polling');
    const until = Date.now() + ms;
    while (!stopped.signal.aborted && Date.now() < until) {
      try {
        if (await o.poll(stopped.signal)) return true;
      } catch {
        // A failed poll is tried again at the next one.
      }
      await sleep(o.pollMs ?? 2000, stopped.signal);
    }
    return false;
  }

  void (async () => {
    let first = true;
    let silent = 0;
    let delay = o.retryMs ?? 1000;
    while (!stopped.signal.aborted) {
      const outcome = await stream(first);
      first = false;
      if (stopped.signal.aborted) return;
      if (outcome === 'ended') return o.onState('ended');
      if (outcome === 'fatal') return o.onState('failed');
      if (outcome === 'dropped') {
        silent = 0;
        delay = o.retryMs ?? 1000;
      } else if (++silent >= 2) {
        // Twice no frame at all: something between holds the stream back. Poll, then try again.
        silent = 0;
        if (await pollFor(o.pollForMs ?? 30_000)) return o.onState('ended');
        continue;
      }
      o.onState('reconnecting');
      await sleep(delay, stopped.signal);
      delay = Math.min(delay * 2, 10_000);
    }
  })();

  return { stop: () => stopped.abort() };
}
