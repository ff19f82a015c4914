import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quote, QuoteError } from '../pricing.mjs';

test('a quote adds the VAT of the country', () => {
  assert.deepEqual(quote({ amount: 100, country: 'DE' }), { amount: 100, country: 'DE', vat_rate: 19, vat: 19, total: 119 });
});

test('France is the default country, amounts are rounded to cents', () => {
  assert.deepEqual(quote({ amount: 9.999 }), { amount: 10, country: 'FR', vat_rate: 20, vat: 2, total: 12 });
});

test('bad amounts and unknown countries are refused', () => {
  assert.throws(() => quote({ amount: -1 }), QuoteError);
  assert.throws(() => quote({ amount: Number.NaN }), QuoteError);
  assert.throws(() => quote({ amount: 10, country: 'XX' }), /unknown country "XX"/);
});
