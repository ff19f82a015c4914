import { describe, expect, it } from 'vitest';
import { builtinConnectors, githubConnector, httpConnector, slackConnector } from './index.js';

describe('builtinConnectors', () => {
  it('returns the http, github, slack and prometheus connectors, in that order', () => {
    expect(builtinConnectors().map((c) => c.service)).toEqual(['http', 'github', 'slack', 'prometheus']);
    expect([httpConnector(), githubConnector(), slackConnector()].map((c) => c.service)).toEqual(['http', 'github', 'slack']);
  });

  it('hands each connector its own options, validated when made', () => {
    expect(() => builtinConnectors({ github: { baseUrl: 'ftp://ghe.example.com' } })).toThrow('githubConnector: expected `baseUrl`');
    expect(() => builtinConnectors({ slack: { timeoutMs: -1 } })).toThrow('slackConnector: expected `timeoutMs` to be an integer ≥ 1, got `-1` (number)');
    expect(() => builtinConnectors({ http: { maxResponseBytes: 1024 }, slack: { baseUrl: 'http://127.0.0.1:9/api' } })).not.toThrow();
    expect(() => builtinConnectors({ prometheus: { baseUrl: 'prometheus:9090' } })).toThrow('prometheusConnector: expected `baseUrl`');
  });

  it('gives every connector the shared outbound policy, under its own options', () => {
    expect(() => builtinConnectors({ outbound: { maxAttempts: 0 } })).toThrow('httpConnector: expected `maxAttempts` to be an integer ≥ 1, got `0` (number)');
    expect(() => builtinConnectors({ outbound: { maxAttempts: 0 }, http: { maxAttempts: 2 } })).toThrow('githubConnector: expected `maxAttempts`');
    expect(() => builtinConnectors({ outbound: { allow: ['10.0.0.0/8', 'hooks.internal', '*.corp.example', '::1'] } })).not.toThrow();
  });
});
