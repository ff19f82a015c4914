// Price quotes: an amount before tax, less a discount code's reduction, the VAT of the buyer's
// country, the total.
export const VAT_RATES = { FR: 20, DE: 19, ES: 21, IT: 22, GB: 20, US: 0 };

/** Discount codes: a percentage off, or a fixed amount off (never below zero). */
export const DISCOUNTS = { SAVE10: { percent: 10 }, WELCOME5: { amount: 5 } };

export class QuoteError extends Error {}

/** A quote for `amount` (a positive number) in `country` (a code of VAT_RATES), with an optional discount `code`. */
export function quote({ amount, country = 'FR', code }) {
  if (!Number.isFinite(amount) || amount <= 0) throw new QuoteError(`amount must be a positive number, got ${amount}`);
  const rate = VAT_RATES[country];
  if (rate === undefined) throw new QuoteError(`unknown country "${country}"; known: ${Object.keys(VAT_RATES).join(', ')}`);
  const discount = discountOf(amount, code);
  const net = amount - discount;
  const vat = round(net * (rate / 100));
  return { amount: round(amount), country, discount: round(discount), vat_rate: rate, vat, total: round(net + vat) };
}

function discountOf(amount, code) {
  if (code === undefined) return 0;
  const rule = DISCOUNTS[code];
  if (rule === undefined) throw new QuoteError(`unknown discount code "${code}"`);
  return rule.percent === undefined ? Math.min(rule.amount, amount) : amount * (rule.percent / 100);
}

function round(value) {
  return Math.round(value * 100) / 100;
}
