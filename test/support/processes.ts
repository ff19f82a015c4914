import { readFileSync } from 'node:fs';

/** A process that exists and is not a zombie (an exited child nobody has reaped yet is dead). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true; // no /proc: kill(0) said it exists
  }
}
