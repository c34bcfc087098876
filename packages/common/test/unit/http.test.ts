import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  closeServer,
  createServiceApp,
  finish,
  isDependencyDown,
  listen,
  requestIdFrom,
  validate,
} from '../../src/http';
import { createLogger } from '../../src/logger';
import { problems } from '../../src/problem';

// An in-process app on an ephemeral 127.0.0.1 port: the real error handler, none of the stack.
// Its log lines are kept, to prove what they never contain.
const logLines: string[] = [];
const logger = createLogger('unit', 'info', { write: (line: string) => logLines.push(line) });
const HASH = 'scrypt$32768$8$3$c2FsdA$aGFzaA';
let server: Server;
let base: string;

beforeAll(async () => {
  const app = createServiceApp({ logger });
  app.get('/conflict', () => {
    throw problems.conflict('Order already paid');
  });
  app.get('/slow-down', () => {
    throw problems.rateLimited(7);
  });
  app.get('/bug', () => {
    throw new Error('secret internals at /srv/app.ts:12');
  });
  app.get('/db-down', () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  app.post('/signup', () => {
    // What TypeORM throws when Postgres refuses a value: the query and its parameters ride along.
    throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      name: 'QueryFailedError',
      query: 'INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)',
      parameters: ['ada@example.test', 'Ada\u0000', HASH],
      driverError: { code: '22021' },
    });
  });
  app.get('/db-bug', () => {
    throw Object.assign(new Error('column "nope" does not exist'), {
      name: 'QueryFailedError',
      parameters: [HASH],
      driverError: { code: '42703' },
    });
  });
  app.post('/orders', (req, res) => {
    const body = validate(z.object({ amount: z.number().int().positive() }), req.body);
    res.status(201).json(body);
  });
  server = await listen(finish(app, logger), 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => closeServer(server));

async function call(path: string, init?: RequestInit) {
  const res = await fetch(base + path, init);
  return { res, body: (await res.json()) as Record<string, unknown> };
}

const post = (body: string, type = 'application/json') => ({
  method: 'POST',
  headers: { 'content-type': type },
  body,
});

describe('error handler (problem+json)', () => {
  it('answers an HttpProblem as it is, with the path as instance', async () => {
    const { res, body } = await call('/conflict');
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body).toEqual({
      type: 'https://paystream.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Order already paid',
      instance: '/conflict',
    });
  });

  it('sends retry-after for rate limiting', async () => {
    const { res, body } = await call('/slow-down');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(body.retryAfter).toBe(7);
  });

  it('hides unexpected errors behind a bare 500', async () => {
    const { res, body } = await call('/bug');
    expect(res.status).toBe(500);
    expect(body).toEqual({
      type: expect.stringMatching(/internal-error$/),
      title: 'Internal server error',
      status: 500,
      instance: '/bug',
    });
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  it('answers 503 with retry-after when a dependency is down', async () => {
    const { res, body } = await call('/db-down');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(body.type).toMatch(/service-unavailable$/);
  });

  it('404s unknown routes', async () => {
    const { res, body } = await call('/nope');
    expect(res.status).toBe(404);
    expect(body).toMatchObject({ detail: 'No route for GET /nope', instance: '/nope' });
  });

  it('maps body problems: validation 400, bad JSON 400, wrong type 415, too large 413', async () => {
    const invalid = await call('/orders', post('{"amount": -1}'));
    expect(invalid.res.status).toBe(400);
    expect(invalid.body.errors).toEqual([{ field: 'amount', message: expect.any(String) }]);
    expect((await call('/orders', post('{"amount":'))).body).toMatchObject({
      status: 400,
      type: expect.stringMatching(/invalid-json$/),
    });
    expect((await call('/orders', post('amount=1', 'text/plain'))).res.status).toBe(415);
    expect(
      (await call('/orders', post(JSON.stringify({ amount: 1, pad: 'x'.repeat(20_000) })))).res.status,
    ).toBe(413);
    const ok = await call('/orders', post('{"amount": 5}'));
    expect([ok.res.status, ok.body]).toEqual([201, { amount: 5 }]);
  });

  it('echoes a sane x-request-id and mints one otherwise', async () => {
    const echoed = await fetch(`${base}/nope`, { headers: { 'x-request-id': 'req-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const minted = await fetch(`${base}/nope`, { headers: { 'x-request-id': 'bad id<script>' } });
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('pure helpers', () => {
  it('requestIdFrom accepts short printable ids only', () => {
    expect(requestIdFrom(['a.b:c-1', 'x'])).toBe('a.b:c-1');
    expect(requestIdFrom('x'.repeat(129))).not.toBe('x'.repeat(129));
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('isDependencyDown recognises connection failures, not request errors', () => {
    expect(isDependencyDown({ code: 'ETIMEDOUT' })).toBe(true);
    expect(isDependencyDown({ driverError: { code: '57P01' } })).toBe(true);
    expect(isDependencyDown(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyDown({ code: '23505', message: 'duplicate key' })).toBe(false);
    expect(isDependencyDown(new Error('boom'))).toBe(false);
  });
});

describe('hostile input', () => {
  const cases: [string, string, string][] = [
    ['NUL in a field', JSON.stringify({ name: 'Ada\u0000' }), 'name'],
    [
      'an escape character in a nested field',
      JSON.stringify({ items: [{ sku: 'A\u001b[31m' }] }),
      'items.0.sku',
    ],
    ['a lone surrogate', '{"name":"\\ud800x"}', 'name'],
    ['a control character in a key', '{"a\\u0007b":1}', 'a\u0007b (key)'],
    ['JSON nested 40 deep', '['.repeat(40) + ']'.repeat(40), '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0'],
  ];

  it.each(cases)('answers 400 naming the field for %s, before any route runs', async (_what, body, field) => {
    const { res, body: problem } = await call('/signup', post(body));
    expect(res.status).toBe(400);
    expect(problem.errors).toEqual([{ field: expect.stringContaining(field), message: expect.any(String) }]);
  });

  it('keeps ordinary Unicode and whitespace: accents, CJK, emoji, tab and newline pass', async () => {
    const { res } = await call('/orders', post(JSON.stringify({ amount: 1, note: 'Zoë 東京 🎉\tx\r\n' })));
    expect(res.status).toBe(201);
  });

  it('answers 400 when Postgres refuses a value, and logs no parameter of the query', async () => {
    logLines.length = 0;
    const { res } = await call('/signup', post(JSON.stringify({ name: 'Ada' })));
    expect(res.status).toBe(400);
    const { res: bug } = await call('/db-bug');
    expect(bug.status).toBe(500);
    const logged = logLines.join('\n');
    expect(logged).toContain('invalid byte sequence');
    expect(logged).toContain('42703');
    expect(logged).not.toContain(HASH);
    expect(logged).not.toContain('ada@example.test');
    expect(logged).not.toContain('INSERT INTO');
  });
});
