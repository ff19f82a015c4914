// A Server-Sent Events reader over node:http for the tests: every frame and comment as it comes.
import { request, type IncomingMessage } from 'node:http';

export interface Frame {
  readonly id?: string;
  readonly event: string;
  readonly data: any;
}

export interface Reader {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly frames: Frame[];
  /** Comment lines (heartbeats) received. */
  comments: number;
  /** Resolves with the first frame (from the start) that `match` accepts, waiting up to `ms`. */
  until(what: string, match: (frame: Frame) => boolean, ms?: number): Promise<Frame>;
  readonly ended: Promise<void>;
  close(): void;
}

export function readSse(url: string, path: string, headers: Record<string, string> = {}): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const frames: Frame[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      const reader: Reader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        comments: 0,
        until(what, match, ms = 10_000) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = frames.find(match);
              if (found === undefined) return false;
              clearTimeout(timer);
              waiters.delete(check as () => void);
              ok(found);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(check as () => void);
              fail(new Error(`${what}: not within ${ms} ms; frames: ${JSON.stringify(frames.map((f) => [f.event, f.id])).slice(0, 2000)}`));
            }, ms);
            if (!check()) waiters.add(check as () => void);
          });
        },
        ended,
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          let comment = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = true;
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) frames.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) });
          else if (comment) reader.comments++;
        }
        for (const w of [...waiters]) w();
      });
      res.on('end', endedResolve);
      res.on('close', endedResolve);
      resolve(reader);
    });
    req.on('error', reject);
    req.end();
  });
}
