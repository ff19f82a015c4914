import { describe, expect, it } from 'vitest';
import { humanLogLine } from './log-lines.js';
import { styleFor } from './style.js';

const plain = styleFor({ isTTY: false }, {});

describe('humanLogLine', () => {
  it("is a pino line for a person: time, level, message, then the fields as key=value", () => {
    const time = new Date(2026, 0, 31, 21, 4, 5).getTime();
    const line = JSON.stringify({ level: 30, time, pid: 1, hostname: 'h', msg: 'webhook accepted: run started', runId: 'gh-1', endpoint: '/hooks/hello', flow: 'hello hook' });
    expect(humanLogLine(line, plain)).toBe('21:04:05  INFO   webhook accepted: run started  runId=gh-1 endpoint=/hooks/hello flow="hello hook"');
  });

  it("says an error by its code and message, and never lets a value's control characters reach the terminal", () => {
    const line = JSON.stringify({ level: 50, time: 0, msg: 'failed\n\u001b[2J', err: { type: 'Error', message: 'disk full', code: 'ENOSPC', stack: 'Error: disk full\n    at …' }, delivery: 'x\u001b[31m' });
    const human = humanLogLine(line, plain);
    expect(human).toContain('ERROR  failed \\u001b[2J  err="ENOSPC: disk full" delivery="x\\u001b[31m"');
    expect(human).not.toContain('\u001b');
    expect(humanLogLine('not json', plain)).toBe('not json');
  });
});
