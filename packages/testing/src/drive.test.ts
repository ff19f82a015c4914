import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fileWorkInFlight } from './drive.js';

describe('fileWorkInFlight', () => {
  it('sees a file read through to its end, the close included', () => {
    expect(fileWorkInFlight(['FSReqPromise'])).toBe(true);
    expect(fileWorkInFlight(['FSReqCallback'])).toBe(true);
    // A readFile resolves after its file is closed: under load the close alone can be in flight.
    expect(fileWorkInFlight(['CloseReq'])).toBe(true);
    expect(fileWorkInFlight(['FileHandleCloseReq'])).toBe(true);
    expect(fileWorkInFlight(['TTYWrap', 'Timeout', 'Immediate', 'TCPServerWrap'])).toBe(false);
  });

  it('is true from the moment a readFile starts until it has resolved', async () => {
    let done = false;
    const read = readFile(import.meta.filename, 'utf8').then(() => (done = true));
    while (!done) {
      expect(fileWorkInFlight(process.getActiveResourcesInfo())).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await read;
  });
});
