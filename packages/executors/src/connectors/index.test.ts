import { describe, expect, it } from 'vitest';
import { builtinConnectors, githubConnector, httpConnector, slackConnector } from './index.js';

describe('builtinConnectors', () => {
  it('returns the http, github and slack connectors, in that order', () => {
    expect(builtinConnectors().map((c) => c.service)).toEqual(['http', 'github', 'slack']);
    expect([httpConnector(), githubConnector(), slackConnector()].map((c) => c.service)).toEqual(['http', 'github', 'slack']);
  });

  it('hands each connector its own options, validated when made', () => {
    expect(() => builtinConnectors({ github: { baseUrl: 'ftp://ghe.example.com' } })).toThrow('githubConnector: expected `baseUrl`');
    expect(() => builtinConnectors({ slack: { timeoutMs: -1 } })).toThrow('slackConnector: expected `timeoutMs` to be an integer ≥ 1, got `-1` (number)');
    expect(() => builtinConnectors({ http: { maxResponseBytes: 1024 }, slack: { baseUrl: 'http://127.0.0.1:9/api' } })).not.toThrow();
  });
});
