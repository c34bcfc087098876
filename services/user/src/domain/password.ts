import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { HttpProblem } from '@paystream/common/problem';
import { dictionary } from '@zxcvbn-ts/language-common';

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
/**
 * And at most this many waiting (~50 ms each, so under half a second of queue): past it a request is
 * answered 503 with Retry-After at once, instead of holding a connection and its memory for seconds.
 */
export const MAX_WAITING_HASHES = 16;
let hashing = 0;
const waiting: (() => void)[] = [];

async function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  if (hashing < MAX_CONCURRENT_HASHES) hashing++;
  else if (waiting.length >= MAX_WAITING_HASHES)
    throw new HttpProblem(503, 'service-unavailable', 'Too many sign-ins at once; try again shortly', {
      retryAfter: 1,
    });
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

/**
 * The common-password list of zxcvbn-ts (a maintained package: ~49,000 passwords seen in breaches, most
 * common first), loaded on first use.
 */
let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common']);
  return common;
}

/** A breached password with a little padding ("Password123!", "!!qwerty2024") is still that password. */
function isCommon(lower: string): boolean {
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  return (
    commonPasswords().has(lower) ||
    (core.length >= 4 && commonPasswords().has(core) && lower.length - core.length <= 6)
  );
}

/** ASVS 4.0 L2 (2.1.1): at least 12 characters; long passphrases welcome (2.1.2). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

/** Returns why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (isCommon(lower)) return 'is too common (it appears in lists of breached passwords)';
  if (/^(.)\1+$/.test(password)) return 'must not repeat one character';
  if (lower === email.toLowerCase() || lower === email.split('@')[0]?.toLowerCase())
    return 'must not be your email';
  return undefined;
}
