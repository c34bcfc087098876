/**
 * The currencies Stripe can charge (its "presentment currencies"), with what our amounts mean in each and
 * what Stripe accepts. Amounts everywhere in Paystream are integers in the unit Stripe's API uses for the
 * currency, so they go to Stripe as they are; this table is where that unit is decided.
 *
 * From Stripe's "Supported currencies" page (https://docs.stripe.com/currencies):
 * - Codes: its list of presentment currencies (as the page renders it for a European account), plus the
 *   three-decimal currencies BHD, JOD, KWD, OMR and TND, which it lists for accounts in countries that
 *   charge in them (e.g. the United Arab Emirates). Which of them one account may use depends on the
 *   account's country; Stripe still refuses a charge the account cannot make.
 * - `digits`, the exponent of the API amount: 2 unless Stripe says otherwise. 0 for its zero-decimal
 *   currencies ("to charge 500 JPY, provide an amount value of 500"), 3 for its three-decimal ones.
 * - `step`, what an amount must be a multiple of: three-decimal amounts must end in 0 ("round amounts to
 *   the nearest ten": 5.124 KWD is sent as 5120 or 5130). ISK and UGX are zero-decimal in practice but
 *   stay two-decimal in the API for backwards compatibility, with "the decimal amount always 00" (5 ISK
 *   is 500): you cannot charge a fraction of them. Stripe's zero-decimal list names UGX as well, but its
 *   special-cases table (and the currency formatter in Stripe's own Android SDK) treat UGX like ISK, and
 *   reading it as zero-decimal would charge a hundredth of the price, so UGX is two-decimal here.
 *   HUF and TWD are two-decimal for charges: their divisible-by-100 rule is for payouts only.
 * - `minimum`, in major units: Stripe's minimum charge where its "Minimum and maximum charge amounts"
 *   table names the currency (`source: 'stripe'`). Those minimums are per settlement currency: they hold
 *   when the charge is paid out in the same currency; a converted charge must meet the settlement
 *   currency's minimum after conversion. Every other currency must meet the equivalent of Stripe's
 *   0.50 USD, which moves with exchange rates, so `source: 'usd-rule'` rows are fixed conservatively:
 *   twice 0.50 USD (1.00 USD) at the currency's weakest of three published rate snapshots (2024-04-02,
 *   2024-10-02, 2025-02-01), rounded up to two significant digits. A currency can lose half its value
 *   against the dollar before such a minimum falls below Stripe's; refresh the rows when one has.
 */
interface CurrencyRow {
  digits: 0 | 2 | 3;
  minimum: string;
  source: 'stripe' | 'usd-rule';
  step?: 10 | 100;
}

const TABLE = {
  aed: { digits: 2, minimum: '2.00', source: 'stripe' },
  afn: { digits: 2, minimum: '76.00', source: 'usd-rule' },
  all: { digits: 2, minimum: '97.00', source: 'usd-rule' },
  amd: { digits: 2, minimum: '400.00', source: 'usd-rule' },
  ang: { digits: 2, minimum: '1.90', source: 'usd-rule' },
  aoa: { digits: 2, minimum: '960.00', source: 'usd-rule' },
  ars: { digits: 2, minimum: '0.50', source: 'stripe' },
  aud: { digits: 2, minimum: '0.50', source: 'stripe' },
  awg: { digits: 2, minimum: '1.90', source: 'usd-rule' },
  azn: { digits: 2, minimum: '1.80', source: 'usd-rule' },
  bam: { digits: 2, minimum: '1.90', source: 'usd-rule' },
  bbd: { digits: 2, minimum: '2.10', source: 'usd-rule' },
  bdt: { digits: 2, minimum: '130.00', source: 'usd-rule' },
  bgn: { digits: 2, minimum: '1.90', source: 'usd-rule' },
  bhd: { digits: 3, minimum: '0.380', source: 'usd-rule', step: 10 },
  bif: { digits: 0, minimum: '3000', source: 'usd-rule' },
  bmd: { digits: 2, minimum: '1.00', source: 'usd-rule' },
  bnd: { digits: 2, minimum: '1.40', source: 'usd-rule' },
  bob: { digits: 2, minimum: '7.00', source: 'usd-rule' },
  brl: { digits: 2, minimum: '0.50', source: 'stripe' },
  bsd: { digits: 2, minimum: '1.00', source: 'usd-rule' },
  bwp: { digits: 2, minimum: '14.00', source: 'usd-rule' },
  byn: { digits: 2, minimum: '3.30', source: 'usd-rule' },
  bzd: { digits: 2, minimum: '2.10', source: 'usd-rule' },
  cad: { digits: 2, minimum: '0.50', source: 'stripe' },
  cdf: { digits: 2, minimum: '2900.00', source: 'usd-rule' },
  chf: { digits: 2, minimum: '0.50', source: 'stripe' },
  clp: { digits: 0, minimum: '990', source: 'usd-rule' },
  cny: { digits: 2, minimum: '7.30', source: 'usd-rule' },
  cop: { digits: 2, minimum: '0.50', source: 'stripe' },
  crc: { digits: 2, minimum: '520.00', source: 'usd-rule' },
  cve: { digits: 2, minimum: '110.00', source: 'usd-rule' },
  czk: { digits: 2, minimum: '15.00', source: 'stripe' },
  djf: { digits: 0, minimum: '180', source: 'usd-rule' },
  dkk: { digits: 2, minimum: '2.50', source: 'stripe' },
  dop: { digits: 2, minimum: '62.00', source: 'usd-rule' },
  dzd: { digits: 2, minimum: '140.00', source: 'usd-rule' },
  egp: { digits: 2, minimum: '51.00', source: 'usd-rule' },
  etb: { digits: 2, minimum: '130.00', source: 'usd-rule' },
  eur: { digits: 2, minimum: '0.50', source: 'stripe' },
  fjd: { digits: 2, minimum: '2.40', source: 'usd-rule' },
  fkp: { digits: 2, minimum: '0.83', source: 'usd-rule' },
  gbp: { digits: 2, minimum: '0.30', source: 'stripe' },
  gel: { digits: 2, minimum: '2.90', source: 'usd-rule' },
  gip: { digits: 2, minimum: '0.83', source: 'usd-rule' },
  gmd: { digits: 2, minimum: '73.00', source: 'usd-rule' },
  gnf: { digits: 0, minimum: '8700', source: 'usd-rule' },
  gtq: { digits: 2, minimum: '7.80', source: 'usd-rule' },
  gyd: { digits: 2, minimum: '210.00', source: 'usd-rule' },
  hkd: { digits: 2, minimum: '4.00', source: 'stripe' },
  hnl: { digits: 2, minimum: '26.00', source: 'usd-rule' },
  htg: { digits: 2, minimum: '140.00', source: 'usd-rule' },
  huf: { digits: 2, minimum: '175.00', source: 'stripe' },
  idr: { digits: 2, minimum: '0.50', source: 'stripe' },
  ils: { digits: 2, minimum: '0.50', source: 'stripe' },
  inr: { digits: 2, minimum: '0.50', source: 'stripe' },
  isk: { digits: 2, minimum: '150.00', source: 'usd-rule', step: 100 },
  jmd: { digits: 2, minimum: '160.00', source: 'usd-rule' },
  jod: { digits: 3, minimum: '0.710', source: 'usd-rule', step: 10 },
  jpy: { digits: 0, minimum: '50', source: 'stripe' },
  kes: { digits: 2, minimum: '140.00', source: 'usd-rule' },
  kgs: { digits: 2, minimum: '90.00', source: 'usd-rule' },
  khr: { digits: 2, minimum: '4100.00', source: 'usd-rule' },
  kmf: { digits: 0, minimum: '480', source: 'usd-rule' },
  krw: { digits: 0, minimum: '50', source: 'stripe' },
  kwd: { digits: 3, minimum: '0.310', source: 'usd-rule', step: 10 },
  kyd: { digits: 2, minimum: '0.84', source: 'usd-rule' },
  kzt: { digits: 2, minimum: '520.00', source: 'usd-rule' },
  lak: { digits: 2, minimum: '22000.00', source: 'usd-rule' },
  lbp: { digits: 2, minimum: '90000.00', source: 'usd-rule' },
  lkr: { digits: 2, minimum: '300.00', source: 'usd-rule' },
  lrd: { digits: 2, minimum: '200.00', source: 'usd-rule' },
  lsl: { digits: 2, minimum: '19.00', source: 'usd-rule' },
  mad: { digits: 2, minimum: '11.00', source: 'usd-rule' },
  mdl: { digits: 2, minimum: '19.00', source: 'usd-rule' },
  mga: { digits: 0, minimum: '4700', source: 'usd-rule' },
  mkd: { digits: 2, minimum: '60.00', source: 'usd-rule' },
  mmk: { digits: 2, minimum: '3300.00', source: 'usd-rule' },
  mnt: { digits: 2, minimum: '3400.00', source: 'usd-rule' },
  mop: { digits: 2, minimum: '8.10', source: 'usd-rule' },
  mur: { digits: 2, minimum: '47.00', source: 'usd-rule' },
  mvr: { digits: 2, minimum: '16.00', source: 'usd-rule' },
  mwk: { digits: 2, minimum: '1800.00', source: 'usd-rule' },
  mxn: { digits: 2, minimum: '10.00', source: 'stripe' },
  myr: { digits: 2, minimum: '2.00', source: 'stripe' },
  mzn: { digits: 2, minimum: '64.00', source: 'usd-rule' },
  nad: { digits: 2, minimum: '19.00', source: 'usd-rule' },
  ngn: { digits: 2, minimum: '1700.00', source: 'usd-rule' },
  nio: { digits: 2, minimum: '37.00', source: 'usd-rule' },
  nok: { digits: 2, minimum: '3.00', source: 'stripe' },
  npr: { digits: 2, minimum: '140.00', source: 'usd-rule' },
  nzd: { digits: 2, minimum: '0.50', source: 'stripe' },
  omr: { digits: 3, minimum: '0.390', source: 'usd-rule', step: 10 },
  pab: { digits: 2, minimum: '1.00', source: 'usd-rule' },
  pen: { digits: 2, minimum: '3.80', source: 'usd-rule' },
  pgk: { digits: 2, minimum: '4.10', source: 'usd-rule' },
  php: { digits: 2, minimum: '0.50', source: 'stripe' },
  pkr: { digits: 2, minimum: '280.00', source: 'usd-rule' },
  pln: { digits: 2, minimum: '2.00', source: 'stripe' },
  pyg: { digits: 0, minimum: '7900', source: 'usd-rule' },
  qar: { digits: 2, minimum: '3.70', source: 'usd-rule' },
  ron: { digits: 2, minimum: '2.00', source: 'stripe' },
  rsd: { digits: 2, minimum: '120.00', source: 'usd-rule' },
  rub: { digits: 2, minimum: '0.50', source: 'stripe' },
  rwf: { digits: 0, minimum: '1500', source: 'usd-rule' },
  sar: { digits: 2, minimum: '3.80', source: 'usd-rule' },
  sbd: { digits: 2, minimum: '8.60', source: 'usd-rule' },
  scr: { digits: 2, minimum: '16.00', source: 'usd-rule' },
  sek: { digits: 2, minimum: '3.00', source: 'stripe' },
  sgd: { digits: 2, minimum: '0.50', source: 'stripe' },
  shp: { digits: 2, minimum: '0.83', source: 'usd-rule' },
  sle: { digits: 2, minimum: '23.00', source: 'usd-rule' },
  sos: { digits: 2, minimum: '580.00', source: 'usd-rule' },
  srd: { digits: 2, minimum: '36.00', source: 'usd-rule' },
  std: { digits: 2, minimum: '21000.00', source: 'usd-rule' },
  szl: { digits: 2, minimum: '19.00', source: 'usd-rule' },
  thb: { digits: 2, minimum: '10.00', source: 'stripe' },
  tjs: { digits: 2, minimum: '11.00', source: 'usd-rule' },
  tnd: { digits: 3, minimum: '3.200', source: 'usd-rule', step: 10 },
  top: { digits: 2, minimum: '2.40', source: 'usd-rule' },
  try: { digits: 2, minimum: '36.00', source: 'usd-rule' },
  ttd: { digits: 2, minimum: '6.80', source: 'usd-rule' },
  twd: { digits: 2, minimum: '33.00', source: 'usd-rule' },
  tzs: { digits: 2, minimum: '2800.00', source: 'usd-rule' },
  uah: { digits: 2, minimum: '42.00', source: 'usd-rule' },
  ugx: { digits: 2, minimum: '3900.00', source: 'usd-rule', step: 100 },
  usd: { digits: 2, minimum: '0.50', source: 'stripe' },
  uyu: { digits: 2, minimum: '44.00', source: 'usd-rule' },
  uzs: { digits: 2, minimum: '13000.00', source: 'usd-rule' },
  vnd: { digits: 0, minimum: '26000', source: 'usd-rule' },
  vuv: { digits: 0, minimum: '120', source: 'usd-rule' },
  wst: { digits: 2, minimum: '2.90', source: 'usd-rule' },
  xaf: { digits: 0, minimum: '640', source: 'usd-rule' },
  xcd: { digits: 2, minimum: '2.80', source: 'usd-rule' },
  xof: { digits: 0, minimum: '640', source: 'usd-rule' },
  xpf: { digits: 0, minimum: '120', source: 'usd-rule' },
  yer: { digits: 2, minimum: '260.00', source: 'usd-rule' },
  zar: { digits: 2, minimum: '0.50', source: 'stripe' },
  zmw: { digits: 2, minimum: '28.00', source: 'usd-rule' },
} satisfies Record<string, CurrencyRow>;

export type StripeCurrency = keyof typeof TABLE;

/** Every currency Stripe can charge, as lower-case ISO 4217 codes (Stripe's own spelling), sorted. */
export const STRIPE_CURRENCIES: readonly StripeCurrency[] = Object.keys(TABLE).sort() as StripeCurrency[];

function row(code: string): CurrencyRow | undefined {
  const key = code.toLowerCase();
  return Object.hasOwn(TABLE, key) ? (TABLE as Record<string, CurrencyRow>)[key] : undefined;
}

/** Whether Stripe can charge in `code` (ISO 4217, any case). */
export function isStripeCurrency(code: string): boolean {
  return row(code) !== undefined;
}

/**
 * How many decimals an amount in `code` has in Stripe's API (and so in ours): 2500 is 25.00 EUR, 2500 JPY,
 * 2.500 KWD. A code outside the table gets 2, Stripe's default, so an amount recorded before the table
 * refused such codes still renders.
 */
export function minorUnitDigits(code: string): number {
  return row(code)?.digits ?? 2;
}

/** `minimum` ("0.50") in minor units (50), exactly: no floating-point product. */
function toMinorUnits(major: string, digits: number): number {
  const [whole = '', fraction = ''] = major.split('.');
  return Number(whole + fraction.padEnd(digits, '0'));
}

/** The smallest amount, in minor units, that may be charged in `code`; throws for a code not in the table. */
export function minimumChargeAmount(code: string): number {
  const r = row(code);
  if (!r) throw new RangeError(`${code} is not a currency Stripe can charge`);
  return toMinorUnits(r.minimum, r.digits);
}

/**
 * Why Stripe would refuse to charge `amount` (minor units) in `code`, in words a client can act on; or
 * undefined when it is chargeable. Stripe's maximum is a matter of digits, which the schemas check.
 */
export function amountRule(code: string, amount: number): string | undefined {
  const r = row(code);
  if (!r) return `${code} is not a currency Stripe can charge`;
  if (!Number.isSafeInteger(amount) || amount <= 0) return 'must be a positive whole number of minor units';
  const minimum = minimumChargeAmount(code);
  const name = code.toUpperCase();
  if (amount < minimum)
    return `must be at least ${minimum} (${formatAmount(minimum, code)}), the smallest charge in ${name}`;
  if (r.step === 10 && amount % 10 !== 0)
    return `must end in 0: Stripe charges ${name} in steps of 10 (${formatAmount(10, code)})`;
  if (r.step === 100 && amount % 100 !== 0)
    return `must be a multiple of 100: ${name} is charged in whole units (500 is ${formatAmount(500, code)})`;
  return undefined;
}

/**
 * `amount` in minor units as the customer reads it, e.g. 2599 eur → "€25.99", 5000 jpy → "¥5,000",
 * 1230 kwd → "KWD 1.230". The amount is divided by Stripe's API exponent, not by Intl's own decimals for
 * the currency: CLDR (Intl's data) gives none to ISK, UGX and a dozen currencies Stripe treats as
 * two-decimal (HUF, IDR, COP, PKR, …), which would show 17500 HUF (175 forints) as "HUF 17,500". ISK and
 * UGX show no decimals when the amount is whole, as it is in every charge Stripe accepts.
 * Throws a RangeError for something that is not a currency code at all.
 */
export function formatAmount(amount: number, code: string, locale = 'en'): string {
  const digits = minorUnitDigits(code);
  const shown = row(code)?.step === 100 && amount % 100 === 0 ? 0 : digits;
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: code.toUpperCase(),
    minimumFractionDigits: shown,
    maximumFractionDigits: shown,
  }).format(amount / 10 ** digits);
}
