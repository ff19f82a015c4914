import { createEngine, parseConfigText } from '@gantry/engine';
import { describe, expect, it } from 'vitest';
import { limitsFromConfig } from './setup.js';

describe('the configuration\'s limits', () => {
  it('map onto the engine\'s limits option', () => {
    expect(limitsFromConfig({ node_output_bytes: 5, expression: { max_steps: 7, timeout_ms: 9 } })).toEqual({ nodeOutputBytes: 5, expression: { maxSteps: 7, timeoutMs: 9 } });
    expect(limitsFromConfig(undefined)).toEqual({});
    expect(createEngine({ limits: limitsFromConfig({ trigger_bytes: 10 }) }).options.limits.triggerBytes).toBe(10);
  });

  it('gantry serve accepts webhook triggers up to its body limit', () => {
    expect(limitsFromConfig(undefined, 25 * 1024 * 1024)).toEqual({ triggerBytes: 25 * 1024 * 1024 });
    expect(limitsFromConfig({ trigger_bytes: 30 * 1024 * 1024 }, 25 * 1024 * 1024)).toEqual({ triggerBytes: 30 * 1024 * 1024 });
  });

  it('are validated by the schema', () => {
    expect(() => parseConfigText(JSON.stringify({ limits: { node_output_bytes: 0 } }))).toThrow(/node_output_bytes/);
    expect(() => parseConfigText(JSON.stringify({ limits: { expression: { max_step: 3 } } }))).toThrow(/max_step/);
    expect(parseConfigText(JSON.stringify({ limits: { expression: { max_steps: 3 } } })).limits?.expression?.max_steps).toBe(3);
  });
});
