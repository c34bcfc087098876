import { startUserBehindGateway, type UserBehindGateway } from './user-behind-gateway';
import { cfg } from '../../../test/support';

/**
 * POST /users/setup-intent: the user service on the real Postgres and localstripe, reached through the
 * real gateway over HTTP. What the service created is read back from localstripe with the secret key.
 */
const json = { 'content-type': 'application/json' };

/** Straight to localstripe with the secret key, as the service's own Stripe client would. */
async function stripeApi(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
  const res = await fetch(`${cfg.STRIPE_API_BASE}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${cfg.STRIPE_SECRET_KEY}`,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return (await res.json()) as Record<string, unknown>;
}

async function storedCustomerId(userId: string): Promise<string | null> {
  const rows = await stack.db.query<{ stripe_customer_id: string | null }[]>(
    `SELECT stripe_customer_id FROM users WHERE id = $1`,
    [userId],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.stripe_customer_id;
}

let stack: UserBehindGateway;

beforeAll(async () => {
  stack = await startUserBehindGateway('setup-intent-test');
});

afterAll(() => stack.close());

describe('POST /users/setup-intent', () => {
  it('answers 401 without a token, and without the gateway no identity can be claimed', async () => {
    const anonymous = await stack.post('/users/setup-intent', {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/application\/problem\+json/);

    const { id } = await stack.signedUp('seti-direct');
    const direct = await fetch(`${stack.user.url}/setup-intent`, {
      method: 'POST',
      headers: { ...json, 'x-user-id': id },
      body: '{}',
    });
    expect(direct.status).toBe(401);
    expect(await storedCustomerId(id)).toBeNull(); // nothing was created in Stripe for the user
  });

  it('asked 60 times in a row: one SetupIntent, then 429 — no card-testing oracle, no fresh secret per call', async () => {
    const { id, auth } = await stack.signedUp('seti-burst');
    const answers = [];
    for (let i = 0; i < 60; i++) answers.push(await stack.post('/users/setup-intent', {}, auth));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(10); // SetupIntents per user in 15 minutes
    expect(answers.slice(10).every((a) => a.status === 429 && Number(a.headers.get('retry-after')) > 0)).toBe(
      true,
    );
    expect(new Set(created.map((a) => a.body.clientSecret)).size).toBe(1);
    const [row] = await stack.db.query<{ setup_intent_id: string }[]>(
      `SELECT setup_intent_id FROM users WHERE id = $1`,
      [id],
    );
    expect(row!.setup_intent_id).toBe(created[0]!.body.setupIntentId);
    expect(await stripeApi('GET', `/setup_intents/${row!.setup_intent_id}`)).toMatchObject({
      status: 'requires_payment_method',
      metadata: { userId: id },
    });
  });

  it('creates an off-session SetupIntent for the user’s Stripe customer, reused on a second call', async () => {
    const { id, auth } = await stack.signedUp('seti');
    expect(await storedCustomerId(id)).toBeNull();

    const first = await stack.post('/users/setup-intent', {}, auth);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ clientSecret: expect.any(String), setupIntentId: expect.any(String) });
    const firstId = first.body.setupIntentId as string;
    expect(firstId).toMatch(/^seti_/);
    expect(first.body.clientSecret).toMatch(new RegExp(`^${firstId}_secret_\\w+$`));

    // The intent really exists in Stripe, for the customer now stored for the user.
    const customerId = await storedCustomerId(id);
    expect(customerId).toMatch(/^cus_/);
    const intent = await stripeApi('GET', `/setup_intents/${firstId}`);
    expect(intent).toMatchObject({
      id: firstId,
      object: 'setup_intent',
      customer: customerId,
      usage: 'off_session',
      payment_method_types: ['card'],
      metadata: { userId: id },
      status: 'requires_payment_method',
    });
    const customer = await stripeApi('GET', `/customers/${customerId!}`);
    expect(customer).toMatchObject({ id: customerId, metadata: { userId: id } });

    // A second call (an empty body this time) while the first is open gets the same one: no new intent.
    const second = await fetch(`${stack.gateway.url}/users/setup-intent`, { method: 'POST', headers: auth });
    expect(second.status).toBe(201);
    const secondBody = (await second.json()) as { clientSecret: string; setupIntentId: string };
    expect(secondBody).toEqual({ setupIntentId: firstId, clientSecret: first.body.clientSecret });
    expect(await storedCustomerId(id)).toBe(customerId);
    const [n] = await stack.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM users WHERE stripe_customer_id = $1`,
      [customerId],
    );
    expect(n!.n).toBe(1);
  });

  it('yields a payment method that POST /users/add saves on the same customer', async () => {
    const { id, auth } = await stack.signedUp('seti-add');
    const created = await stack.post('/users/setup-intent', {}, auth);
    expect(created.status).toBe(201);
    // Stripe.js would confirm with the client secret; localstripe only confirms with the secret key.
    const confirmed = await stripeApi(
      'POST',
      `/setup_intents/${created.body.setupIntentId as string}/confirm`,
      {
        payment_method: 'pm_card_visa',
      },
    );
    expect(confirmed.status).toBe('succeeded');
    expect(confirmed.payment_method).toMatch(/^pm_/);

    const added = await stack.post('/users/add', { paymentMethodId: confirmed.payment_method }, auth);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ brand: 'visa', last4: '4242', isDefault: true });
    const rows = await stack.db.query<{ stripe_customer_id: string; stripe_payment_method_id: string }[]>(
      `SELECT stripe_customer_id, stripe_payment_method_id FROM payment_methods WHERE user_id = $1`,
      [id],
    );
    expect(rows).toEqual([
      { stripe_customer_id: await storedCustomerId(id), stripe_payment_method_id: confirmed.payment_method },
    ]);
  });

  it('refuses any field in the body with a 400 problem, before anything reaches Stripe', async () => {
    const { id, auth } = await stack.signedUp('seti-bad');
    const unknown = await stack.post('/users/setup-intent', { customer: 'cus_someone_else' }, auth);
    expect(unknown.status).toBe(400);
    expect(unknown.type).toMatch(/application\/problem\+json/);
    expect(unknown.body.type).toBe('https://paystream.dev/problems/validation-error');
    expect(unknown.body.errors).toEqual([{ field: '(body)', message: expect.any(String) }]);
    expect(JSON.stringify(unknown.body)).not.toMatch(/at .*\.ts:\d+|sk_test/);

    const notAnObject = await stack.post('/users/setup-intent', '[]', auth);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.type).toMatch(/application\/problem\+json/);
    expect(await storedCustomerId(id)).toBeNull();
  });
});
