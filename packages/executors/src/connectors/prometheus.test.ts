import { describe, expect, it } from 'vitest';
import { prometheusConnector } from './prometheus.js';
import { everythingIn, json, loopbackPerTest, rejection, testContext } from './test-kit.js';

const CANARY = 'canary-3f9a77e1-prometheus-token';
const serve = loopbackPerTest();

const vector = (value: string) => ({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: { job: 'api' }, value: [1767225600, value] }, { metric: { job: 'web' }, value: [1767225600, '9'] }] },
});

describe('prometheusConnector', () => {
  it('runs an instant query and hands the first sample over as a number', async () => {
    const s = await serve((_req, res) => json(res, 200, vector('0.0125')));
    const { ctx } = testContext();
    const out = await prometheusConnector({ baseUrl: s.url }).call('query', { query: 'sum(rate(errors[5m]))', time: '2026-01-01T00:00:00Z' }, ctx);
    expect(out).toEqual({ result_type: 'vector', result: vector('0.0125').data.result, value: 0.0125 });
    const [got] = s.received;
    const url = new URL(got!.url, s.url);
    expect(got?.method).toBe('GET');
    expect(url.pathname).toBe('/api/v1/query');
    expect(url.searchParams.get('query')).toBe('sum(rate(errors[5m]))');
    expect(url.searchParams.get('time')).toBe('2026-01-01T00:00:00.000Z');
    // No credential configured: none sent.
    expect(got?.headers.authorization).toBeUndefined();
  });

  it('reads scalars and matrices, and gives null for no data or a value that is not finite', async () => {
    let body: unknown;
    const s = await serve((_req, res) => json(res, 200, body));
    const connector = prometheusConnector({ baseUrl: `${s.url}/prom/` });
    const { ctx } = testContext();
    const cases: [unknown, number | null][] = [
      [{ resultType: 'scalar', result: [1, '42'] }, 42],
      [{ resultType: 'matrix', result: [{ metric: {}, values: [[1, '1'], [2, '3.5']] }] }, 3.5],
      [{ resultType: 'vector', result: [] }, null],
      [{ resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] }, null],
      [{ resultType: 'scalar', result: [1, '+Inf'] }, null],
      [{ resultType: 'string', result: [1, 'hello'] }, null],
    ];
    for (const [data, value] of cases) {
      body = { status: 'success', data };
      expect((await connector.call('query', { query: 'x', time: 1767225600 }, ctx)).value, JSON.stringify(data)).toBe(value);
    }
    expect(new URL(s.received[0]!.url, s.url).pathname).toBe('/prom/api/v1/query');
    expect(new URL(s.received[0]!.url, s.url).searchParams.get('time')).toBe('1767225600');
  });

  it('says what Prometheus refused, and retries only what may pass later', async () => {
    let status = 400;
    const s = await serve((_req, res) => json(res, status, { status: 'error', errorType: status === 400 ? 'bad_data' : 'unavailable', error: 'parse error at char 4' }));
    const connector = prometheusConnector({ baseUrl: s.url, maxAttempts: 1 });
    const bad = await rejection(connector.call('query', { query: 'sum(' }, testContext().ctx));
    expect(bad).toMatchObject({ code: 'CONNECTOR_FAILED', retryable: false });
    expect(bad.message).toContain('answered HTTP 400: bad_data: parse error at char 4');
    status = 503;
    expect(await rejection(connector.call('query', { query: 'up' }, testContext().ctx))).toMatchObject({ retryable: true });
  });

  it('sends the node\'s credential, or the default one when it is set, and never lets it out', async () => {
    const s = await serve((req, res) => json(res, 401, { status: 'error', errorType: 'unauthorized', error: `bad token ${req.headers.authorization}` }));
    const { ctx, logText } = testContext({ credentials: { prometheus_token: `${CANARY}` } });
    const error = await rejection(prometheusConnector({ baseUrl: s.url }).call('query', { query: 'up' }, ctx));
    expect(s.received[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(error.message).toContain('bad token Bearer [REDACTED]');
    expect(everythingIn(error)).not.toContain(CANARY);
    expect(logText()).not.toContain(CANARY);

    const named = await rejection(prometheusConnector({ baseUrl: s.url }).call('query', { query: 'up' }, { ...ctx, authentication: 'missing' }));
    expect(named).toMatchObject({ code: 'USAGE' });
    expect(named.message).toContain('the credential "missing" is not configured');
  });

  it('refuses bad params before calling', async () => {
    const s = await serve((_req, res) => json(res, 200, vector('1')));
    const connector = prometheusConnector({ baseUrl: s.url });
    const { ctx } = testContext();
    const cases: [string, object, string][] = [
      ['query_range', { query: 'up' }, 'unknown action "query_range"; expected one of query'],
      ['query', {}, 'expected `query` to be a non-empty string (a PromQL expression), got nothing'],
      ['query', { query: 'up', time: 'yesterday' }, 'expected `time` to be an RFC 3339 date-time or Unix seconds'],
      ['query', { query: 'up', timeout: 'ten' }, 'expected `timeout` to be a Prometheus duration'],
    ];
    for (const [action, params, message] of cases) {
      const error = await rejection(connector.call(action, params as never, ctx));
      expect(error).toMatchObject({ code: 'USAGE' });
      expect(error.message).toContain(message);
    }
    expect(s.received).toHaveLength(0);
  });

  it('fails an answer that is not Prometheus\'s', async () => {
    const s = await serve((_req, res) => json(res, 200, { hello: 'world' }));
    const error = await rejection(prometheusConnector({ baseUrl: s.url }).call('query', { query: 'up' }, testContext().ctx));
    expect(error.message).toContain('expected { status: "success", data: { resultType, result } }');
  });
});
