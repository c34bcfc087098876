import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt, Node's built-in memory-hard hash (no native add-on to build). N=2^15, r=8, p=3 is one of
 * OWASP's equivalent scrypt settings and needs 32 MiB per hash, so a burst of sign-ins stays within the
 * service's memory budget. Parameters are stored with each hash, so they can be raised later and old
 * hashes still verify.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;

/**
 * At most two hashes at a time: each takes 32 MiB on purpose, so a burst of sign-ups or sign-ins
 * queues here instead of growing the process by 32 MiB per request (and a flood of them cannot
 * exhaust memory). A slot is handed straight to the next waiter, so the limit is never exceeded.
 */
const MAX_CONCURRENT_HASHES = 2;
let hashing = 0;
const waiting: (() => void)[] = [];

async function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  if (hashing < MAX_CONCURRENT_HASHES) hashing++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
    return await new Promise<Buffer>((resolve, reject) =>
      scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) =>
        err ? reject(err) : resolve(key),
      ),
    );
  } finally {
    const next = waiting.shift();
    if (next) next();
    else hashing--;
  }
}

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Verified against when the email is unknown, so both failures cost the same time. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

// A short list of the most common passwords (the long lists belong in a breach-check service).
const COMMON = new Set([
  'password',
  'password1',
  'password12',
  'password123',
  'password1234',
  '123456789',
  '1234567890',
  '12345678910',
  'qwertyuiop',
  'qwerty123',
  'qwerty1234',
  '1q2w3e4r5t',
  'iloveyou',
  'iloveyou1',
  'letmein123',
  'welcome123',
  'admin12345',
  'administrator',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword1',
  'football1',
  'baseball1',
  'sunshine1',
  'princess1',
  'dragon1234',
  'monkey1234',
  'abc1234567',
  'aaaaaaaaaa',
  '0000000000',
  '1111111111',
  'changeme123',
  'trustno1!',
  'superman1',
  'starwars1',
]);

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/** Returns why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return 'is too common';
  if (/^(.)\1+$/.test(password)) return 'must not repeat one character';
  if (lower === email.toLowerCase() || lower === email.split('@')[0]?.toLowerCase())
    return 'must not be your email';
  return undefined;
}
