// The fault knob, for rehearsing a bad release: one API request in `every` fails with a 500
// (mode "errors") or answers after `latency_ms` (mode "slow"). Counting requests instead of
// drawing random numbers makes the damage the same on every run.
const MODES = new Set(['errors', 'slow']);

/** The fault from the environment (FAULT, FAULT_EVERY, FAULT_LATENCY_MS) over config.json's. */
export function readFault(env = {}, configured = null) {
  const mode = env.FAULT ?? configured?.mode ?? 'none';
  if (mode === 'none' || mode === '') return null;
  if (!MODES.has(mode)) throw new Error(`FAULT must be errors, slow or none, got "${mode}"`);
  const every = Number(env.FAULT_EVERY ?? configured?.every ?? 4);
  const latencyMs = Number(env.FAULT_LATENCY_MS ?? configured?.latency_ms ?? 800);
  if (!Number.isInteger(every) || every < 1) throw new Error(`FAULT_EVERY must be an integer ≥ 1, got "${every}"`);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`FAULT_LATENCY_MS must be a number ≥ 0, got "${latencyMs}"`);
  return { mode, every, latencyMs };
}

/** A function that says, request after request, whether this one is hit by the fault. */
export function faultCounter(fault) {
  let seen = 0;
  return () => fault !== null && ++seen % fault.every === 0;
}
