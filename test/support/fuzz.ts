/** Seeded random JSON for fuzz tests: reproducible, and biased towards the shapes that break parsers. */
export function prng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'null',
  '💳💳',
  "'; DROP TABLE users; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  'a'.repeat(5000),
  '4242424242424242',
  'pm_card_visa',
  '00000000-0000-0000-0000-000000000000',
  '\ud800',
  '1e309',
  '__proto__',
];

export function randomValue(rand: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * (depth > 2 ? 6 : 8))) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick([0, -1, 1.5, 2 ** 53 + 1, -1e308, 1e308, 12, 2034, 99_999_999, 100_000_000]);
    case 3:
    case 4:
      return pick(NASTY_STRINGS);
    case 5:
      return Array.from({ length: Math.floor(rand() * 5) }, () => pick(NASTY_STRINGS));
    case 6:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default:
      return randomObject(rand, [], depth + 1);
  }
}

/** An object that mixes the endpoint's real field names with junk ones and random values. */
export function randomObject(
  rand: () => number,
  fields: readonly string[],
  depth = 0,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const f of fields) if (rand() < 0.7) obj[f] = randomValue(rand, depth);
  if (rand() < 0.3)
    obj[rand() < 0.5 ? '__proto__' : `x${Math.floor(rand() * 100)}`] = randomValue(rand, depth);
  return obj;
}

/** Values that once broke a service somewhere: control characters, lone surrogates, huge and deep. */
export const HOSTILE_VALUES: readonly unknown[] = [
  '\u0000',
  'Ada\u0000Lovelace',
  '\u001b[31mred',
  '\ud800',
  'x\udfffy',
  'a'.repeat(1_000_000),
  JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown,
  12345,
  -1,
  1e308,
  true,
  null,
  ['a', 1],
  { nested: { object: true } },
];

/** A request body: mostly objects with the right field names, sometimes raw junk or broken JSON. */
export function randomBody(rand: () => number, fields: readonly string[]): string {
  const r = rand();
  if (r < 0.1) return JSON.stringify(randomValue(rand));
  if (r < 0.2) return JSON.stringify(randomObject(rand, fields)).slice(0, Math.floor(rand() * 20));
  return JSON.stringify(randomObject(rand, fields));
}
