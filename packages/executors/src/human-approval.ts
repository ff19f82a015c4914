import { defineExecutor, type JsonObject } from '@gantry/engine';
import { merged } from './inputs.js';

interface ApprovalData extends JsonObject {
  approvers: string[];
  timeout: number;
}

/** Pauses the run until enough approvers decide (§3.5); the engine keeps the rules. */
export const humanApprovalExecutor = defineExecutor<ApprovalData>({
  type: 'human_approval',
  async run(ctx, data) {
    const outcome = await ctx.requestApproval({
      approvers: data.approvers,
      required: typeof data.required === 'number' ? data.required : data.approvers.length,
      timeoutSeconds: data.timeout,
      onTimeout: data.on_timeout === 'approve' ? 'approve' : 'fail',
      allowSelfApproval: data.allow_self_approval === true,
      ...(typeof data.message === 'string' ? { message: data.message } : {}),
    });
    return { output: merged(ctx.input, { approved: outcome.approved, timed_out: outcome.timedOut, decisions: [...outcome.decisions] }) };
  },
});
