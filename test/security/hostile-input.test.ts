import { cfg } from '../support';
import { HOSTILE_VALUES, prng, randomBody } from '../support/fuzz';
import { E2E_PORTS, startE2E, type Auth, type E2E } from '../e2e/support';

/**
 * Every public route, through the real gateway to the real services: NUL and other control characters,
 * lone surrogates, 1 MB strings, deep JSON and wrong types in every field, then seeded random bodies.
 * Never a 5xx, every error is problem+json, and no log line of any service carries a password, a hash,
 * a token or a card number.
 */
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.hostileInput);
}, 180_000);

afterAll(() => e2e?.stop());

interface Route {
  method: 'GET' | 'POST';
  path: string;
  fields: string[];
  auth: boolean;
}

const PASSWORD = 'the hostile input test password';

/** For the URL path; a lone surrogate has no UTF-8, so it goes as the bytes a careless client would send. */
const inPath = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
};

/** A control character (not tab or a line break) or a lone surrogate: what the services refuse in any field. */
const unsafe = (text: string) =>
  [...text].some((c) => {
    const n = c.codePointAt(0)!;
    return (n < 0x20 && !'\t\n\r'.includes(c)) || (n >= 0xd800 && n <= 0xdfff);
  });
const CARD = '4242424242424242';

it('answers hostile and random input on every public route with a 4xx problem, and logs no secret', async () => {
  const email = `hostile-${Date.now()}@example.test`;
  await e2e.post('/users/signup', { email, password: PASSWORD, name: 'Hostile' });
  const signin = await e2e.post('/users/signin', { email, password: PASSWORD });
  const token = signin.body.token as string;
  const auth: Auth = { authorization: `Bearer ${token}` };
  expect((await e2e.post('/users/add', { paymentMethodId: 'pm_card_visa' }, auth)).status).toBe(201);
  const order = await e2e.post('/orders/create', { amount: 1000, currency: 'eur' }, auth);
  const orderId = order.body.orderId as string;

  const routes: Route[] = [
    { method: 'POST', path: '/users/signup', fields: ['email', 'password', 'name'], auth: false },
    { method: 'POST', path: '/users/signin', fields: ['email', 'password', 'deviceToken'], auth: false },
    { method: 'POST', path: '/users/refresh', fields: ['refreshToken'], auth: false },
    { method: 'POST', path: '/users/signout', fields: ['refreshToken'], auth: false },
    { method: 'POST', path: '/users/password-reset', fields: ['email'], auth: false },
    { method: 'POST', path: '/users/password-reset/confirm', fields: ['token', 'newPassword'], auth: false },
    { method: 'POST', path: '/users/verify-email', fields: ['token'], auth: false },
    { method: 'POST', path: '/users/verify-email/resend', fields: [], auth: true },
    { method: 'POST', path: '/users/password', fields: ['currentPassword', 'newPassword'], auth: true },
    { method: 'POST', path: '/users/add', fields: ['paymentMethodId', 'card', 'userId'], auth: true },
    { method: 'POST', path: '/users/setup-intent', fields: [], auth: true },
    { method: 'POST', path: '/orders/create', fields: ['amount', 'currency', 'items'], auth: true },
    { method: 'POST', path: `/orders/${orderId}/cancel`, fields: [], auth: true },
    { method: 'POST', path: '/webhooks/stripe', fields: ['id', 'type', 'data'], auth: false },
    { method: 'GET', path: '/orders/status/', fields: [], auth: true },
    { method: 'GET', path: '/orders', fields: ['limit', 'cursor', 'status'], auth: true },
  ];

  const failures: string[] = [];
  const send = async (route: Route, body: string | undefined, query = '', suffix = '') => {
    const res = await fetch(`${e2e.services.url('gateway')}${route.path}${suffix}${query}`, {
      method: route.method,
      headers: { 'content-type': 'application/json', ...(route.auth ? auth : {}) },
      ...(route.method === 'POST' ? { body } : {}),
    });
    const text = await res.text();
    const what = `${route.method} ${route.path}${suffix}${query.slice(0, 60)} ${String(body).slice(0, 80)}`;
    if (res.status >= 500) failures.push(`${res.status} for ${what}: ${text.slice(0, 200)}`);
    else if (res.status >= 400 && !/application\/problem\+json/.test(res.headers.get('content-type') ?? ''))
      failures.push(`${res.status} without problem+json for ${what}`);
    return res.status;
  };

  // Each hostile value in each field (the body routes), in the path and the query (the GET routes).
  for (const route of routes) {
    const fields = route.fields.length ? route.fields : ['anything'];
    for (const value of HOSTILE_VALUES)
      for (const field of fields) {
        if (route.method === 'POST') {
          const status = await send(route, JSON.stringify({ [field]: value }));
          // A control character, surrogate, over-deep or over-long body is refused whatever the route.
          if (typeof value === 'string' && unsafe(value) && status < 400)
            failures.push(`${route.path} accepted ${JSON.stringify(value).slice(0, 30)} in ${field}`);
        } else if (route.path.endsWith('/')) {
          await send(route, undefined, '', inPath(String(value).slice(0, 2000)));
        } else {
          const q = new URLSearchParams({ [field]: String(JSON.stringify(value)).slice(0, 2000) });
          await send(route, undefined, `?${q.toString()}`);
        }
      }
  }
  // Seeded random bodies on the POST routes.
  const rand = prng(20261125);
  for (const route of routes.filter((r) => r.method === 'POST' && !r.path.endsWith('/cancel')))
    for (let i = 0; i < 60; i++) await send(route, randomBody(rand, route.fields));

  expect(failures).toEqual([]);
  // Still healthy, and nothing secret in any service's log.
  expect((await fetch(`${e2e.services.url('gateway')}/healthz`)).status).toBe(200);
  const logs = e2e.services.output.join('\n');
  const refreshToken = signin.body.refreshToken as string;
  for (const secret of [PASSWORD, token, refreshToken, CARD, 'scrypt$', cfg.SERVICE_TOKEN, cfg.JWT_SECRET])
    expect({ secret: secret.slice(0, 12), found: logs.includes(secret) }).toEqual({
      secret: secret.slice(0, 12),
      found: false,
    });
});
