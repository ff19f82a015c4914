import { faultCounter } from './fault.mjs';
import { createMetrics } from './metrics.mjs';
import { quote, QuoteError } from './pricing.mjs';

const ROUTES = new Set(['/health', '/metrics', '/api/price']);

/** The request handler and its metrics; `fault` (see fault.mjs) only touches the API routes. */
export function createApp({ version, fault = null }) {
  const metrics = createMetrics();
  const hit = faultCounter(fault);

  async function answer(url) {
    if (url.pathname === '/health') return [200, { status: 'ok', version }];
    if (url.pathname === '/metrics') return [200, metrics.render(version)];
    if (url.pathname !== '/api/price') return [404, { error: `no route ${url.pathname}` }];
    if (hit()) {
      if (fault.mode === 'errors') return [500, { error: 'injected fault' }];
      await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    }
    return priceOf(url.searchParams);
  }

  function handle(req, res) {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://service');
    const route = ROUTES.has(url.pathname) ? url.pathname : 'other';
    res.on('finish', () => metrics.observe(req.method ?? 'GET', route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    answer(url).then(
      ([status, body]) => send(res, status, body, version),
      (error) => send(res, 500, { error: error.message }, version),
    );
  }

  return { handle, metrics };
}

function priceOf(params) {
  try {
    const code = params.get('code') ?? undefined;
    return [200, quote({ amount: Number(params.get('amount')), country: params.get('country') ?? undefined, code })];
  } catch (error) {
    if (error instanceof QuoteError) return [400, { error: error.message }];
    throw error;
  }
}

function send(res, status, body, version) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4' : 'application/json',
    'x-service-version': version,
  });
  res.end(text);
}
