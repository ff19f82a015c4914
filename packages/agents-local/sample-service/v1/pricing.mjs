// Price quotes: an amount before tax, the VAT of the buyer's country, the total.
export const VAT_RATES = { FR: 20, DE: 19, ES: 21, IT: 22, GB: 20, US: 0 };

export class QuoteError extends Error {}

/** A quote for `amount` (a positive number) in `country` (a code of VAT_RATES). */
export function quote({ amount, country = 'FR' }) {
  if (!Number.isFinite(amount) || amount <= 0) throw new QuoteError(`amount must be a positive number, got ${amount}`);
  const rate = VAT_RATES[country];
  if (rate === undefined) throw new QuoteError(`unknown country "${country}"; known: ${Object.keys(VAT_RATES).join(', ')}`);
  const vat = round(amount * (rate / 100));
  return { amount: round(amount), country, vat_rate: rate, vat, total: round(amount + vat) };
}

function round(value) {
  return Math.round(value * 100) / 100;
}
