import type { JsonObject } from '@gantry/engine';
import { show } from './format.js';

/** A call the run made, in the order it was made. */
export interface CallRecord {
  readonly kind: 'agent' | 'connector' | 'function';
  /** agent: the agent; connector: the service; function: the function. */
  readonly name: string;
  /** agent: the task; connector: the action. */
  readonly operation?: string;
  /** agent: its inputs (a task run as a flow: the params its flow received); connector: its params; function: its input. */
  readonly payload: JsonObject;
  readonly node: string;
  /** The path of the run that made it from the tested run ("" for the tested run). */
  readonly run: string;
  readonly attempt: number;
  /** Fake-clock milliseconds since the tested run started. */
  readonly at: number;
  /** A task run as a flow: that flow's file, as the report shows it. */
  readonly flow?: string;
}

/** `agent deployer/deploy_staging at staging_deployment`, and where, for reports. */
export function describeCall(call: CallRecord, withPayload = false): string {
  const what = call.kind === 'function' ? `function ${call.name}` : `${call.kind} ${call.name}/${call.operation}`;
  const where = `${call.node}${call.run === '' ? '' : ` in sub-flow run ${call.run}`}`;
  const via = call.flow === undefined ? '' : ` (run as flow ${call.flow})`;
  const payload = withPayload ? ` with ${call.kind === 'agent' ? (call.flow ? 'params' : 'inputs') : call.kind === 'connector' ? 'params' : 'input'} ${show(call.payload)}` : '';
  return `${what} at ${where}${via}${payload}`;
}
