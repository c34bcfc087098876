import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { startUserBehindGateway, type UserBehindGateway } from './user-behind-gateway';
import { cfg, uniqueEmail, type RunningApp } from '../../../test/support';
import { prng, randomBody } from '../../../test/support/fuzz';

/** Hundreds of random bodies per endpoint through the gateway: never a 5xx, always problem+json. */
const ROUNDS = 300;
let user: RunningApp;
let gateway: RunningApp;
let stack: UserBehindGateway;

beforeAll(async () => {
  stack = await startUserBehindGateway('user-fuzz');
  ({ user, gateway } = stack);
});

afterAll(() => stack.close());

it('survives random bodies on every endpoint and stays healthy', async () => {
  const email = uniqueEmail('fuzz');
  const password = 'fuzzing is fun 123';
  await fetch(`${gateway.url}/users/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Fuzz' }),
  });
  const signin = await fetch(`${gateway.url}/users/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const { token } = (await signin.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };

  const endpoints: { path: string; fields: string[]; headers: Record<string, string> }[] = [
    { path: '/users/signup', fields: ['email', 'password', 'name'], headers: {} },
    { path: '/users/signin', fields: ['email', 'password'], headers: {} },
    { path: '/users/add', fields: ['paymentMethodId', 'card', 'userId', 'number', 'cvc'], headers: auth },
  ];
  const rand = prng(20261125);
  const statuses = new Map<number, number>();
  for (const { path, fields, headers } of endpoints) {
    for (let i = 0; i < ROUNDS; i++) {
      const body = randomBody(rand, fields);
      const res = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status >= 500) throw new Error(`${path} answered ${res.status} to ${body}: ${text}`);
      if (res.status >= 400) expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  }
  // The internal route with random ids and tokens.
  for (let i = 0; i < ROUNDS; i++) {
    const id = encodeURIComponent(randomBody(rand, []).slice(0, 60)) || 'x';
    const res = await fetch(`${user.url}/get/${id}`, {
      headers: rand() < 0.5 ? { [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN } : {},
    });
    expect(res.status).toBeLessThan(500);
  }

  expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  expect(statuses.get(400)).toBeGreaterThan(ROUNDS); // most random bodies are invalid...
  expect((await fetch(`${user.url}/readyz`)).status).toBe(200); // ...and the service is still fine
  expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
});
