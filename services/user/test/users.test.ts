import { CLIENT_ADDRESS_HEADER, SERVICE_TOKEN_HEADER, verifyUserToken } from '@paystream/common/auth';
import { loadConfig, type Config } from '@paystream/common/config';
import { createLogger } from '@paystream/common/logger';
import { createStripe } from '@paystream/common/stripe';
import type { DataSource } from 'typeorm';
import { createUserApp } from '../src/app';
import { DEFAULT_LIMITS, AttemptThrottle } from '../src/domain/attempt-throttle';
import {
  LIFTED_LIMITS,
  PASSWORD,
  startUserBehindGateway,
  type UserBehindGateway,
} from './user-behind-gateway';
import { cfg, serve, uniqueEmail, type RunningApp } from '../../../test/support';

/**
 * The user service on the real Postgres and a real fake Stripe (localstripe; stripe-mock for API
 * conformance), reached through the real gateway over HTTP.
 */
const logger = createLogger('user-test', 'silent');
const json = { 'content-type': 'application/json' };

/** A sign-in straight to the user service as the gateway sends it, from the client address `address`. */
async function fromAddress(address: string, body: unknown) {
  const res = await fetch(`${user.url}/signin`, {
    method: 'POST',
    headers: { ...json, [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN, [CLIENT_ADDRESS_HEADER]: address },
    body: JSON.stringify(body),
  });
  return { status: res.status };
}

let db: DataSource;
let user: RunningApp;
let gateway: RunningApp;

const post: UserBehindGateway['post'] = (...args) => stack.post(...args);
const signedUp: UserBehindGateway['signedUp'] = (prefix) => stack.signedUp(prefix);

let stack: UserBehindGateway;

beforeAll(async () => {
  stack = await startUserBehindGateway('user-test');
  ({ db, user, gateway } = stack);
});

afterAll(() => stack.close());

describe('signup and signin', () => {
  it('creates the account with a memory-hard hash, mails a verification link, and signs in with short and refresh tokens', async () => {
    const email = uniqueEmail('signup');
    const created = await post('/users/signup', {
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
      name: 'Ada',
    });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ email, status: 'verification_sent' });

    const [row] = await db.query<{ id: string; password_hash: string; email_verified_at: Date | null }[]>(
      `SELECT id, password_hash, email_verified_at FROM users WHERE email = $1`,
      [email],
    );
    expect(row!.password_hash).toMatch(/^scrypt\$32768\$8\$3\$[\w-]{22}\$[\w-]{43}$/);
    expect(row!.password_hash).not.toContain(PASSWORD);
    expect(row!.email_verified_at).toBeNull();
    expect(stack.accountEmails.filter((m) => m.userId === row!.id)).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        kind: 'verify_email',
        userId: row!.id,
        link: expect.stringMatching(/#verify=[\w-]{43}$/),
      },
    ]);

    const signin = await post('/users/signin', { email, password: PASSWORD });
    expect(signin.status).toBe(200);
    expect(signin.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: cfg.ACCESS_TOKEN_SECONDS,
      userId: row!.id,
      refreshToken: expect.stringMatching(/^[\w-]{43}$/),
      deviceToken: expect.any(String),
      emailVerified: false,
    });
    expect(verifyUserToken(cfg.JWT_SECRET, signin.body.token as string)).toBe(row!.id);
  });

  it('answers a sign-up with a known address exactly as a new one, and mails its owner instead', async () => {
    const { email, id } = await signedUp('dup');
    const dup = await post('/users/signup', { email: email.toUpperCase(), password: PASSWORD, name: 'Twin' });
    expect(dup.status).toBe(202);
    expect(dup.body).toEqual({ email, status: 'verification_sent' });
    expect(stack.accountEmails.filter((m) => m.userId === id).map((m) => m.kind)).toEqual([
      'verify_email',
      'account_exists',
    ]);
    const [n] = await db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [
      email,
    ]);
    expect(n!.n).toBe(1);
  });

  it('refuses a weak password and bad fields (400 listing them)', async () => {
    const weak = await post('/users/signup', { email: uniqueEmail(), password: 'password1234', name: 'W' });
    expect(weak.status).toBe(400);
    expect(weak.body.errors).toEqual([
      { field: 'password', message: 'is too common (it appears in lists of breached passwords)' },
    ]);

    const bad = await post('/users/signup', { email: 'not-an-email', password: 12, name: '', admin: true });
    expect(bad.status).toBe(400);
    const fields = (bad.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['(body)', 'email', 'name', 'password']);
  });

  it('gives the same answer for an unknown email and a wrong password, and slows brute force', async () => {
    const { email } = await signedUp('brute');
    const unknown = await post('/users/signin', { email: uniqueEmail('nobody'), password: PASSWORD });
    const wrong = await post('/users/signin', { email, password: 'wrong password 1' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);

    for (let i = 2; i <= 5; i++)
      expect((await post('/users/signin', { email, password: `wrong ${i}` })).status).toBe(401);
    // Over the limit for this account from this client: refused even with the right password, with a
    // time to come back; the refused attempt is counted too, and hashed nothing.
    const locked = await post('/users/signin', { email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    const [count] = await db.query<{ failures: number }[]>(
      `SELECT failures FROM signin_failures WHERE key LIKE $1`,
      [`signin:${email}|%`],
    );
    expect(count!.failures).toBe(6);
  });

  it('counts each attempt before the hash: 30 guesses at once get at most 5 evaluated; the owner’s known device still signs in', async () => {
    const { email, deviceToken } = await signedUp('burst');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post('/users/signin', { email, password: `wrong guess ${i}` })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    // The owner's device that signed in before is not held to the attack's budget, whatever its address.
    const known = await post('/users/signin', { email, password: PASSWORD, deviceToken });
    expect(known.status).toBe(200);
    // A device the account does not know, from another address, is (the account's budget for them is spent).
    const elsewhere = await fromAddress('203.0.113.9', { email, password: PASSWORD });
    expect(elsewhere.status).toBe(429);
  });

  it('bounds guesses at one account across clients: 30 addresses get 10 evaluated, not 30', async () => {
    const { email, deviceToken } = await signedUp('spread');
    const statuses = [];
    for (let i = 0; i < 30; i++)
      statuses.push(
        (await fromAddress(`198.51.100.${i + 1}`, { email, password: `wrong guess ${i}` })).status,
      );
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    // A device token of another account, or a forged one, is an unknown device.
    const other = await signedUp('spread-other');
    expect(
      (await post('/users/signin', { email, password: PASSWORD, deviceToken: other.deviceToken })).status,
    ).toBe(429);
    expect(
      (await post('/users/signin', { email, password: PASSWORD, deviceToken: `${deviceToken}x` })).status,
    ).toBe(429);
    expect((await post('/users/signin', { email, password: PASSWORD, deviceToken })).status).toBe(200);
  });

  it('limits sign-ups per client', async () => {
    const throttle = new AttemptThrottle(db, { ...DEFAULT_LIMITS, signupsPerClient: 2 });
    const client = `198.51.100.${Math.floor(Math.random() * 250)}-${Date.now()}`;
    expect(await throttle.signup(client)).toBe(0);
    expect(await throttle.signup(client)).toBe(0);
    expect(await throttle.signup(client)).toBeGreaterThan(800);
    expect(await throttle.signup(`${client}-other`)).toBe(0);
  });
});

describe('sessions and recovery', () => {
  it('rotates refresh tokens; a reused one signs out its whole family, and no other', async () => {
    const { email, refreshToken } = await signedUp('refresh');
    const next = await post('/users/refresh', { refreshToken });
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(refreshToken);
    const other = await post('/users/signin', { email, password: PASSWORD }); // another device
    // The first token again: someone copied it. Its family ends, the rotated token with it.
    const reused = await post('/users/refresh', { refreshToken });
    expect(reused.status).toBe(401);
    expect((await post('/users/refresh', { refreshToken: next.body.refreshToken })).status).toBe(401);
    // The other device's session is another family: untouched.
    expect((await post('/users/refresh', { refreshToken: other.body.refreshToken })).status).toBe(200);
  });

  it('signs out one device, or everywhere', async () => {
    const { email, auth, refreshToken } = await signedUp('signout');
    const second = await post('/users/signin', { email, password: PASSWORD });
    expect((await post('/users/signout', { refreshToken })).status).toBe(204);
    expect((await post('/users/refresh', { refreshToken })).status).toBe(401);
    const secondNext = await post('/users/refresh', { refreshToken: second.body.refreshToken });
    expect(secondNext.status).toBe(200);
    expect((await post('/users/signout-all', {}, auth)).status).toBe(204);
    expect((await post('/users/refresh', { refreshToken: secondNext.body.refreshToken })).status).toBe(401);
  });

  it('changes the password only with the current one, and ends every session', async () => {
    const { email, auth, refreshToken } = await signedUp('change');
    const wrong = await post(
      '/users/password',
      { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' },
      auth,
    );
    expect(wrong.status).toBe(401);
    const changed = await post(
      '/users/password',
      { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
      auth,
    );
    expect(changed.status).toBe(204);
    expect((await post('/users/refresh', { refreshToken })).status).toBe(401);
    expect((await post('/users/signin', { email, password: PASSWORD })).status).toBe(401);
    expect((await post('/users/signin', { email, password: 'a brand new passphrase' })).status).toBe(200);
  });

  it('resets a password with a mailed link, once, within 30 minutes: the address is verified, every session ends', async () => {
    const { email, id, refreshToken } = await signedUp('reset');
    const unknown = await post('/users/password-reset', { email: uniqueEmail('nobody') });
    const known = await post('/users/password-reset', { email });
    expect([unknown.status, known.status]).toEqual([202, 202]); // the same answer: nobody learns who has an account
    const mail = stack.accountEmails.find((m) => m.userId === id && m.kind === 'reset_password')!;
    const token = /#reset=([\w-]{43})$/.exec(mail.link!)![1]!;
    const [stored] = await db.query<{ token_hash: string; expires_in: number }[]>(
      `SELECT token_hash, extract(epoch FROM expires_at - now())::int AS expires_in FROM account_tokens WHERE user_id = $1 AND purpose = 'reset_password'`,
      [id],
    );
    expect(stored!.token_hash).not.toContain(token); // only its hash is kept
    expect(stored!.expires_in).toBeGreaterThan(1700);
    expect(stored!.expires_in).toBeLessThanOrEqual(1800);

    const reset = await post('/users/password-reset/confirm', {
      token,
      newPassword: 'reset to this passphrase',
    });
    expect(reset.status).toBe(204);
    const again = await post('/users/password-reset/confirm', { token, newPassword: 'and now to this one' });
    expect(again.status).toBe(400);
    expect((await post('/users/refresh', { refreshToken })).status).toBe(401);
    const signin = await post('/users/signin', { email, password: 'reset to this passphrase' });
    expect(signin.body.emailVerified).toBe(true);
  });

  it('verifies the address with its link, once', async () => {
    const { email, id } = await signedUp('verify');
    const mail = stack.accountEmails.find((m) => m.userId === id && m.kind === 'verify_email')!;
    const token = /#verify=([\w-]{43})$/.exec(mail.link!)![1]!;
    expect((await post('/users/verify-email', { token })).status).toBe(204);
    expect((await post('/users/verify-email', { token })).status).toBe(400);
    expect((await post('/users/signin', { email, password: PASSWORD })).body.emailVerified).toBe(true);
    const forged = await post('/users/verify-email', { token: 'A'.repeat(43) });
    expect(forged.status).toBe(400);
  });
});

describe('payment details', () => {
  it('tokenises a card through Stripe and keeps only ids, brand, last 4 and expiry', async () => {
    const { id, auth } = await signedUp('card');
    const added = await post(
      '/users/add',
      { card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2034, cvc: '123' } },
      auth,
    );
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      brand: 'visa',
      last4: '4242',
      expMonth: 12,
      expYear: 2034,
      isDefault: true,
    });

    const rows = await db.query<{ row: string }[]>(
      `SELECT row_to_json(p)::text AS row FROM payment_methods p WHERE user_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).toMatch(/"stripe_payment_method_id":"pm_/);
    expect(rows[0]!.row).toMatch(/"stripe_customer_id":"cus_/);
    expect(rows[0]!.row).not.toContain('4242424242424242');
    expect(rows[0]!.row).not.toContain('"123"');
    const everything = await db.query<{ dump: string }[]>(
      `SELECT (SELECT json_agg(u)::text FROM users u WHERE id = $1) || (SELECT json_agg(p)::text FROM payment_methods p WHERE user_id = $1) AS dump`,
      [id],
    );
    expect(everything[0]!.dump).not.toContain('4242424242424242');

    // A second card (a Stripe payment-method id) becomes the default; the Stripe customer is reused.
    const second = await post('/users/add', { paymentMethodId: 'pm_card_visa' }, auth);
    expect(second.status).toBe(201);
    const cards = await db.query<{ is_default: boolean; stripe_customer_id: string }[]>(
      `SELECT is_default, stripe_customer_id FROM payment_methods WHERE user_id = $1 ORDER BY created_at`,
      [id],
    );
    expect(cards.map((c) => c.is_default)).toEqual([false, true]);
    expect(new Set(cards.map((c) => c.stripe_customer_id)).size).toBe(1);
  });

  it('answers 402 for a declined card and 400 for a number that is not a card', async () => {
    const { id, auth } = await signedUp('declined');
    const declined = await post(
      '/users/add',
      { card: { number: '4000000000000002', expMonth: 1, expYear: 2033, cvc: '999' } },
      auth,
    );
    expect(declined.status).toBe(402);
    expect(declined.body.type).toBe('https://paystream.dev/problems/card-declined');
    const luhn = await post(
      '/users/add',
      { card: { number: '4242424242424241', expMonth: 1, expYear: 2033, cvc: '999' } },
      auth,
    );
    expect(luhn.status).toBe(400);
    expect(JSON.stringify(luhn.body)).not.toContain('4242424242424241');
    const unknownPm = await post('/users/add', { paymentMethodId: 'pm_doesnotexist' }, auth);
    expect(unknownPm.status).toBe(400);
    const [n] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payment_methods WHERE user_id = $1`,
      [id],
    );
    expect(n!.n).toBe(0);
  });

  it('lets a user add only to their own account, and only when signed in', async () => {
    const alice = await signedUp('alice');
    const bob = await signedUp('bob');
    const res = await post('/users/add', { userId: bob.id, paymentMethodId: 'pm_card_visa' }, alice.auth);
    expect(res.status).toBe(403);
    const anonymous = await post('/users/add', { paymentMethodId: 'pm_card_visa' });
    expect(anonymous.status).toBe(401);
    // Straight to the service, without the gateway's service token: no identity can be claimed.
    const direct = await fetch(`${user.url}/add`, {
      method: 'POST',
      headers: { ...json, 'x-user-id': bob.id },
      body: JSON.stringify({ paymentMethodId: 'pm_card_visa' }),
    });
    expect(direct.status).toBe(401);
    const [n] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payment_methods WHERE user_id = $1`,
      [bob.id],
    );
    expect(n!.n).toBe(0);
  });

  it('serves GET /get/:userId to services only', async () => {
    const { id, email, auth } = await signedUp('details');
    const get = (userId: string, headers: Record<string, string> = {}) =>
      fetch(`${user.url}/get/${userId}`, { headers });
    const service = { [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN };

    expect((await get(id, service)).status).toBe(404); // no card yet
    await post('/users/add', { paymentMethodId: 'pm_card_visa' }, auth);

    expect((await get(id)).status).toBe(403);
    expect((await get(id, { [SERVICE_TOKEN_HEADER]: 'wrong-token-wrong-token' })).status).toBe(403);
    expect((await get(id, { ...service, 'x-user-id': id })).status).toBe(403); // a user call, not a service call
    const ok = await get(id, service);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      userId: id,
      email,
      name: 'Ada Lovelace',
      stripeCustomerId: expect.stringMatching(/^cus_/),
      paymentMethodId: expect.stringMatching(/^pm_/),
      brand: 'visa',
      last4: '4242',
      expMonth: expect.any(Number),
      expYear: expect.any(Number),
    });
    expect((await get('4b1d7e7e-0000-4000-8000-000000000000', service)).status).toBe(404);
    expect((await get('not-a-uuid', service)).status).toBe(404);
    // The contact route (for notifications) is guarded the same way.
    expect((await fetch(`${user.url}/contact/${id}`)).status).toBe(403);
    const contact = await fetch(`${user.url}/contact/${id}`, { headers: service });
    expect(await contact.json()).toEqual({ userId: id, email, name: 'Ada Lovelace', verified: false });
    // The gateway never routes either, whoever asks.
    for (const path of [`/users/get/${id}`, `/users/contact/${id}`]) {
      const viaGateway = await fetch(`${gateway.url}${path}`, { headers: { ...auth, ...service } });
      expect(viaGateway.status).toBe(404);
    }
  });

  it('in production: takes Stripe.js ids only, never card numbers, and stops card testing per user', async () => {
    const app = await serveUserApp({ ...cfg, NODE_ENV: 'production' }, cfg);
    try {
      const { id } = await signedUp('prod-card');
      const headers = { ...json, [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN, 'x-user-id': id };
      const add = async (body: unknown) => {
        const res = await fetch(`${app.url}/add`, { method: 'POST', headers, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as { errors?: { field: string }[] } };
      };
      const raw = await add({
        card: { number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' },
      });
      expect(raw.status).toBe(400);
      expect(raw.body.errors?.map((e) => e.field)).toEqual(['card']);
      // Five cards in the window, then the next is refused before Stripe sees it.
      for (let i = 0; i < 5; i++) expect((await add({ paymentMethodId: 'pm_card_visa' })).status).toBe(201);
      expect((await add({ paymentMethodId: 'pm_card_visa' })).status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('conforms to the Stripe API: the same flow against stripe-mock', async () => {
    const mockCfg = loadConfig({
      ...process.env,
      STRIPE_API_BASE: `http://127.0.0.1:${cfg.STRIPE_MOCK_PORT}`,
    });
    const app = await serveUserApp(mockCfg);
    try {
      const { id } = await signedUp('mock');
      const headers = { ...json, [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN, 'x-user-id': id };
      for (const body of [
        { paymentMethodId: 'pm_card_visa' },
        { card: { number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123' } },
      ]) {
        const res = await fetch(`${app.url}/add`, { method: 'POST', headers, body: JSON.stringify(body) });
        expect(res.status).toBe(201);
      }
      const [row] = await db.query<{ stripe_customer_id: string; n: number }[]>(
        `SELECT min(stripe_customer_id) AS stripe_customer_id, count(*)::int AS n FROM payment_methods WHERE user_id = $1`,
        [id],
      );
      expect(row!.stripe_customer_id).toMatch(/^cus_/);
      expect(row!.n).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });
});

describe('bad input', () => {
  it('answers problem+json 4xx for bad JSON, wrong content type, oversized bodies and unknown routes', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/users/signup', { method: 'POST', headers: json, body: '{"email": ' }, 400],
      ['/users/signup', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }, 415],
      [
        '/users/signup',
        { method: 'POST', headers: json, body: JSON.stringify({ email: 'x'.repeat(100_000) }) },
        413,
      ],
      [
        '/users/signup',
        { method: 'POST', headers: json, body: JSON.stringify({ email: 'x'.repeat(30_000) }) },
        413,
      ],
      ['/users/signup', { method: 'POST', headers: json, body: '[]' }, 400],
      ['/users/signup', { method: 'POST', headers: json, body: 'null' }, 400],
      ['/users/signin', { method: 'POST', headers: json, body: '"string"' }, 400],
      // A NUL in a name was a 500 from Postgres, with the new user's hash in the error log line.
      [
        '/users/signup',
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ email: uniqueEmail('nul'), password: PASSWORD, name: 'Ada\u0000' }),
        },
        400,
      ],
      [
        '/users/signup',
        { method: 'POST', headers: json, body: '{"email":"a@b.test","password":"x","name":"\\udc00"}' },
        400,
      ],
      ['/users/nope', { method: 'POST', headers: json, body: '{}' }, 404],
      ['/nope', { method: 'GET' }, 404],
    ];
    for (const [path, init, status] of cases) {
      const res = await fetch(`${gateway.url}${path}`, init);
      expect({ path, status: res.status }).toEqual({ path, status });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const body = (await res.json()) as { type: string; stack?: unknown };
      expect(body.type).toMatch(/^https:\/\/paystream\.dev\/problems\//);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
    }
  });
});

/** The user service in process with its own configuration (and Stripe's), sign-in limits lifted. */
function serveUserApp(appCfg: Config, stripeCfg: Config = appCfg): Promise<RunningApp> {
  return serve(
    createUserApp({
      logger,
      db,
      cfg: appCfg,
      stripe: createStripe(stripeCfg),
      throttleLimits: LIFTED_LIMITS,
    }),
  );
}
