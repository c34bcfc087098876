import {
  amountRule,
  formatAmount,
  isStripeCurrency,
  minimumChargeAmount,
  minorUnitDigits,
  STRIPE_CURRENCIES,
} from '../../src/currencies';

/** Stripe's zero-decimal list but UGX, which its special cases make two-decimal like ISK. */
const ZERO_DECIMAL = 'bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf'.split(' ');
const THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'];
const WHOLE_UNITS_TWO_DECIMALS = ['isk', 'ugx'];

/** Stripe's "Minimum charge amount by currency" table, in minor units. */
const STRIPE_MINIMUMS: Record<string, number> = {
  usd: 50,
  aed: 200,
  ars: 50,
  aud: 50,
  brl: 50,
  cad: 50,
  chf: 50,
  cop: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  idr: 50,
  ils: 50,
  inr: 50,
  jpy: 50,
  krw: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  php: 50,
  pln: 200,
  ron: 200,
  rub: 50,
  sek: 300,
  sgd: 50,
  thb: 1000,
  zar: 50,
};

/** The number in an 'en' rendering: its digits and how many of them follow the decimal point. */
function numberIn(rendered: string): { digits: string; decimals: number } {
  const match = /(\d[\d,]*)(?:\.(\d+))?/.exec(rendered);
  if (!match) throw new Error(`no number in ${rendered}`);
  const fraction = match[2] ?? '';
  return { digits: match[1]!.replaceAll(',', '') + fraction, decimals: fraction.length };
}

describe('the table of currencies Stripe can charge', () => {
  it('lists lower-case ISO codes once each, sorted, including every zero- and three-decimal currency', () => {
    expect(STRIPE_CURRENCIES.length).toBeGreaterThanOrEqual(135);
    for (const code of STRIPE_CURRENCIES) expect(code).toMatch(/^[a-z]{3}$/);
    expect(new Set(STRIPE_CURRENCIES).size).toBe(STRIPE_CURRENCIES.length);
    expect([...STRIPE_CURRENCIES].sort()).toEqual(STRIPE_CURRENCIES);
    expect(STRIPE_CURRENCIES).toEqual(
      expect.arrayContaining([
        ...ZERO_DECIMAL,
        ...THREE_DECIMAL,
        ...WHOLE_UNITS_TWO_DECIMALS,
        'huf',
        'twd',
        ...Object.keys(STRIPE_MINIMUMS),
      ]),
    );
  });

  it('knows a currency in any case, and nothing that is not one Stripe charges', () => {
    for (const code of ['eur', 'EUR', 'Eur', 'jpy', 'KWD'])
      expect([code, isStripeCurrency(code)]).toEqual([code, true]);
    for (const code of ['xyz', 'XXX', 'euro', 'eu', '', 'vef', 'hrk', 'toString', '__proto__'])
      expect([code, isStripeCurrency(code)]).toEqual([code, false]);
  });

  it('gives zero-decimal currencies exponent 0 and three-decimal ones exponent 3', () => {
    for (const code of ZERO_DECIMAL) expect([code, minorUnitDigits(code)]).toEqual([code, 0]);
    for (const code of THREE_DECIMAL) expect([code, minorUnitDigits(code)]).toEqual([code, 3]);
    expect(minorUnitDigits('JPY')).toBe(0);
  });

  it('keeps ISK, UGX, HUF and TWD two-decimal, as Stripe’s API has them', () => {
    for (const code of [...WHOLE_UNITS_TWO_DECIMALS, 'huf', 'twd'])
      expect([code, minorUnitDigits(code)]).toEqual([code, 2]);
  });

  it('treats a code outside the table as two-decimal, Stripe’s default', () => {
    expect(minorUnitDigits('xyz')).toBe(2);
  });
});

describe('minimumChargeAmount', () => {
  it('is Stripe’s own minimum for every currency in Stripe’s minimum table', () => {
    for (const [code, minimum] of Object.entries(STRIPE_MINIMUMS))
      expect([code, minimumChargeAmount(code)]).toEqual([code, minimum]);
    expect(minimumChargeAmount('GBP')).toBe(30);
  });

  it('is above 0.50 USD elsewhere: a dollar-pegged currency needs a dollar, a dinar a third of one', () => {
    for (const code of ['bmd', 'bsd', 'pab']) expect([code, minimumChargeAmount(code)]).toEqual([code, 100]);
    expect(minimumChargeAmount('aed')).toBe(200); // Stripe's, about 0.54 USD
    expect(minimumChargeAmount('sar')).toBeGreaterThan(188); // 0.50 USD is 1.875 SAR (pegged)
    expect(minimumChargeAmount('kwd')).toBeGreaterThan(154); // 0.50 USD is about 0.154 KWD
    expect(minimumChargeAmount('isk')).toBeGreaterThan(7_000); // 0.50 USD is about 70 ISK
    expect(minimumChargeAmount('vnd')).toBeGreaterThan(12_500); // 0.50 USD is about 12,500 VND
  });

  it('is itself chargeable in every currency: on the currency’s step and passing amountRule', () => {
    for (const code of STRIPE_CURRENCIES) {
      const minimum = minimumChargeAmount(code);
      expect([code, Number.isSafeInteger(minimum) && minimum > 0]).toEqual([code, true]);
      expect([code, amountRule(code, minimum)]).toEqual([code, undefined]);
    }
  });

  it('throws for a currency Stripe cannot charge', () => {
    expect(() => minimumChargeAmount('xyz')).toThrow(RangeError);
  });
});

describe('amountRule', () => {
  it('refuses an amount below the minimum, naming the minimum', () => {
    expect(amountRule('eur', 49)).toBe('must be at least 50 (€0.50), the smallest charge in EUR');
    expect(amountRule('usd', 1)).toMatch(/at least 50 \(\$0\.50\)/);
    expect(amountRule('jpy', 49)).toMatch(/at least 50 \(¥50\)/);
    expect(amountRule('huf', 17_499)).toMatch(/at least 17500/);
  });

  it('accepts the minimum and anything above it in a two-decimal currency', () => {
    for (const amount of [50, 51, 2599, 99_999_999])
      expect([amount, amountRule('eur', amount)]).toEqual([amount, undefined]);
    expect(amountRule('EUR', 50)).toBeUndefined();
  });

  it('refuses a three-decimal amount not ending in 0', () => {
    for (const code of THREE_DECIMAL) {
      const ok = minimumChargeAmount(code) + 1000;
      expect([code, amountRule(code, ok)]).toEqual([code, undefined]);
      expect(amountRule(code, ok + 5)).toMatch(/^must end in 0/);
    }
    expect(amountRule('kwd', 5124)).toMatch(/KWD in steps of 10 \(KWD\s0\.010\)/);
  });

  it('refuses an ISK or UGX amount that is not a multiple of 100: no fractions of a króna or shilling', () => {
    expect(amountRule('isk', 50_050)).toMatch(/^must be a multiple of 100: ISK .*500 is ISK\s5\)$/);
    expect(amountRule('isk', 50_000)).toBeUndefined();
    expect(amountRule('ugx', 500_050)).toMatch(/^must be a multiple of 100: UGX/);
    expect(amountRule('ugx', 500_000)).toBeUndefined();
  });

  it('lets HUF and TWD charge fractions: the multiple-of-100 rule is for their payouts', () => {
    expect(amountRule('huf', 17_545)).toBeUndefined();
    expect(amountRule('twd', 80_045)).toBeUndefined();
  });

  it('takes zero-decimal amounts as whole units', () => {
    expect(amountRule('jpy', 51)).toBeUndefined();
    expect(amountRule('krw', 1001)).toBeUndefined();
  });

  it('refuses a currency Stripe cannot charge and an amount that is not a positive whole number', () => {
    expect(amountRule('xyz', 5000)).toBe('xyz is not a currency Stripe can charge');
    for (const amount of [0, -100, 12.5, Number.NaN])
      expect([amount, amountRule('eur', amount)]).toEqual([
        amount,
        'must be a positive whole number of minor units',
      ]);
  });
});

describe('formatAmount', () => {
  it('renders every currency in the table without throwing, with exactly the digits of the amount', () => {
    for (const code of STRIPE_CURRENCIES) {
      const rendered = formatAmount(123_456, code);
      const decimals = minorUnitDigits(code);
      expect([code, numberIn(rendered)]).toEqual([code, { digits: '123456', decimals }]);
    }
  });

  it('renders EUR and USD with two decimals', () => {
    expect(formatAmount(2599, 'eur')).toBe('€25.99');
    expect(formatAmount(5, 'EUR')).toBe('€0.05');
    expect(formatAmount(123_456_789, 'usd')).toBe('$1,234,567.89');
  });

  it('renders JPY without decimals', () => {
    expect(formatAmount(5000, 'jpy')).toBe('¥5,000');
    expect(formatAmount(1, 'jpy')).toBe('¥1');
  });

  it('renders three-decimal currencies with three decimals, the last one included', () => {
    expect(formatAmount(1230, 'kwd')).toMatch(/^KWD\s1\.230$/);
    expect(formatAmount(5, 'bhd')).toMatch(/^BHD\s0\.005$/);
  });

  it('reads ISK and UGX amounts as two-decimal, as Stripe’s API does, and shows them in whole units', () => {
    expect(formatAmount(500, 'isk')).toMatch(/^ISK\s5$/);
    expect(formatAmount(1_234_500, 'ISK')).toMatch(/^ISK\s12,345$/);
    expect(formatAmount(390_000, 'ugx')).toMatch(/^UGX\s3,900$/);
    // Not a chargeable amount, but one recorded earlier still shows what it was.
    expect(formatAmount(550, 'isk')).toMatch(/^ISK\s5\.50$/);
  });

  it('renders HUF with two decimals, though Intl on its own would show none', () => {
    expect(formatAmount(17_500, 'huf')).toMatch(/^HUF\s175\.00$/);
    expect(formatAmount(80_045, 'twd')).toBe('NT$800.45');
  });

  it('renders in the locale asked for', () => {
    expect(formatAmount(2599, 'eur', 'de')).toMatch(/^25,99\s€$/);
    expect(formatAmount(5000, 'jpy', 'ja')).toMatch(/^[¥￥]5,000$/);
  });

  it('renders a code outside the table as two-decimal, and throws on what is no currency code', () => {
    expect(formatAmount(100, 'xyz')).toMatch(/^XYZ\s1\.00$/);
    expect(() => formatAmount(100, 'euro')).toThrow(RangeError);
  });
});
