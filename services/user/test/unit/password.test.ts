import { scryptSync } from 'node:crypto';
import { HttpProblem } from '@paystream/common/problem';
import {
  hashPassword,
  passwordProblem,
  PASSWORD_MAX,
  MAX_WAITING_HASHES,
  PASSWORD_MIN,
  verifyPassword,
} from '../../src/domain/password';

describe('passwordProblem', () => {
  const email = 'ada.lovelace@example.com';

  it('accepts a long, uncommon password', () => {
    expect(passwordProblem('correct horse battery staple', email)).toBeUndefined();
    expect(passwordProblem('x'.repeat(PASSWORD_MIN - 1) + 'y', email)).toBeUndefined();
    expect(passwordProblem('ab'.repeat(PASSWORD_MAX / 2), email)).toBeUndefined();
  });

  it('refuses passwords outside the length limits', () => {
    expect(passwordProblem('a1b2c3d4e', email)).toBe(`must be at least ${PASSWORD_MIN} characters`);
    expect(passwordProblem('ab'.repeat(PASSWORD_MAX / 2) + 'c', email)).toBe(
      `must be at most ${PASSWORD_MAX} characters`,
    );
  });

  it('refuses common passwords whatever their case', () => {
    const common = 'is too common (it appears in lists of breached passwords)';
    expect(passwordProblem('password1234', email)).toBe(common);
    expect(passwordProblem('QWERTYUIOP12', email)).toBe(common);
    // A breached password padded with digits or symbols is still that password.
    expect(passwordProblem('Password123!', email)).toBe(common);
    expect(passwordProblem('!!Sunshine2026', email)).toBe(common);
    expect(passwordProblem('ChangeMe1234', email)).toBe(common);
  });

  it('refuses one character repeated', () => {
    expect(passwordProblem('zzzzzzzzzzzz', email)).toBe('must not repeat one character');
    expect(passwordProblem('zzzzzzzzzzzy', email)).toBeUndefined();
  });

  it('refuses the email address or its local part', () => {
    expect(passwordProblem('Ada.Lovelace@Example.com', email)).toBe('must not be your email');
    expect(passwordProblem('ADA.LOVELACE', email)).toBe('must not be your email');
  });
});

// scrypt costs ~0.5 s a hash on purpose, so these tests hash as few times as they can, two at a time.
describe('hashPassword / verifyPassword', () => {
  it('stores scrypt parameters, a salt and the key, and verifies only the right password', async () => {
    const stored = await hashPassword('ﬁle cabinet 42'); // U+FB01 ligature, NFKC-normalised to "fi"
    expect(stored).toMatch(/^scrypt\$32768\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
    const [typedAnotherWay, wrong, again] = await Promise.all([
      verifyPassword('file cabinet 42', stored),
      verifyPassword('file cabinet 43', stored),
      hashPassword('ﬁle cabinet 42'),
    ]);
    expect(typedAnotherWay).toBe(true);
    expect(wrong).toBe(false);
    expect(again).not.toBe(stored); // salted
  });

  it('verifies hashes made with older (stored) parameters', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('legacy password', salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = ['scrypt', 1024, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
    await expect(verifyPassword('legacy password', stored)).resolves.toBe(true);
    await expect(verifyPassword('legacy passwort', stored)).resolves.toBe(false);
  });

  it('refuses stored values that are not scrypt hashes', async () => {
    await expect(verifyPassword('anything', 'bcrypt$2b$10$abc')).resolves.toBe(false);
    await expect(verifyPassword('anything', 'scrypt$32768$8$3$')).resolves.toBe(false);
    await expect(verifyPassword('anything', '')).resolves.toBe(false);
  });
});

describe('the hash queue', () => {
  it('is bounded: past two hashing and MAX_WAITING_HASHES waiting, a request is a 503 with Retry-After at once', async () => {
    const burst = await Promise.allSettled(
      Array.from({ length: 2 + MAX_WAITING_HASHES + 10 }, () => hashPassword('correct horse battery staple')),
    );
    const refused = burst.filter((r) => r.status === 'rejected').map((r) => r.reason as HttpProblem);
    expect(refused).toHaveLength(10);
    for (const problem of refused) {
      expect(problem).toBeInstanceOf(HttpProblem);
      expect(problem.status).toBe(503);
      expect(problem.extensions.retryAfter).toBe(1);
    }
  });
});
