import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Temporary folders for a test file, removed after each test. */
export function temporaryFolders(): (files?: Record<string, unknown>) => string {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });
  return (files = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-testing-'));
    folders.push(dir);
    // Objects are written as JSON, two spaces deep: tests read line numbers in them.
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return dir;
  };
}
