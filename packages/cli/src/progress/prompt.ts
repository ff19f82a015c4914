import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { isGantryError, type ApprovalRequestedEvent, type Engine } from '@gantry/engine';

/**
 * Asks at the terminal for the decisions an approval still needs. Returns false when the user
 * leaves it undecided (an empty name), so that the run can be left waiting.
 */
export async function promptForApproval(engine: Engine, event: ApprovalRequestedEvent, input: Readable, output: Writable): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: true });
  try {
    return await ask(rl, engine, event, output);
  } catch (error) {
    // Ctrl-D or Ctrl-C at the prompt: the approval is left waiting, as with an empty answer.
    if ((error as { name?: string }).name === 'AbortError' || (error as { code?: string }).code === 'ABORT_ERR') return false;
    throw error;
  } finally {
    rl.close();
  }
}

async function ask(rl: ReturnType<typeof createInterface>, engine: Engine, event: ApprovalRequestedEvent, output: Writable): Promise<boolean> {
  {
    let asked = false;
    for (;;) {
      const run = engine.run(event.runId);
      // Decided already (by --approve-as, or another decision since): nothing to ask.
      if (run === undefined || !run.waitingApprovals().some((w) => w.nodeId === event.nodeId)) return true;
      if (!asked) output.write(`\nApproval needed: "${event.nodeId}" — approvers ${event.approvers.join(', ')}${event.required < event.approvers.length ? ` (${event.required} of them)` : ''}${event.message ? `\n  ${event.message}` : ''}\n`);
      asked = true;
      const principal = (await rl.question('  Decide as (principal name; empty leaves it waiting): ')).trim();
      if (principal === '') return false;
      const answer = (await rl.question('  approve or reject? [a/r]: ')).trim().toLowerCase();
      if (!['a', 'approve', 'r', 'reject'].includes(answer)) {
        output.write('  Answer a (approve) or r (reject).\n');
        continue;
      }
      const comment = (await rl.question('  comment (optional): ')).trim();
      try {
        await engine.decide(event.runId, event.nodeId, {
          principal,
          decision: answer.startsWith('a') ? 'approve' : 'reject',
          channel: 'prompt',
          ...(comment ? { comment } : {}),
        });
      } catch (error) {
        if (!isGantryError(error)) throw error;
        output.write(`  ${error.code}: ${error.message}\n`);
      }
    }
  }
}
