import http from 'node:http';
import { signUserToken } from '@paystream/common/auth';
import { createLogger } from '@paystream/common/logger';
import jwt from 'jsonwebtoken';
import express from 'express';
import { createGatewayApp, type GatewayAppDeps } from '../src/app';
import { createAgent } from '../src/proxy';
import { serve, type RunningApp } from '../../../test/support';

const JWT_SECRET = 'gateway-test-secret-0123456789abcdef0123456789';
const SERVICE_TOKEN = 'gateway-test-service-token';
const USER_ID = '6f1c1c56-8d4e-4c4b-9d1e-0a7b3f5d2e11';
const auth = { authorization: `Bearer ${signUserToken(JWT_SECRET, USER_ID)}` };

/** The gateway in front of real HTTP upstreams: what it forwards, strips, limits and reports. */
describe('gateway reverse proxy', () => {
  const logger = createLogger('gateway-test', 'silent');
  const agent = createAgent();
  let upstream: RunningApp;
  let gateway: RunningApp;
  const seen: { path: string; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    const app = express();
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.post('/setup-intent', (_req, res) => {
      setTimeout(() => res.json({ late: true }), 1500);
    });
    app.use((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ path: req.url, headers: req.headers, body });
        res.status(201).json({ echoed: req.url });
      });
    });
    upstream = await serve(app);
    gateway = await serve(
      createGatewayApp({
        logger,
        agent,
        userServiceUrl: upstream.url,
        orderServiceUrl: 'http://127.0.0.1:1', // nothing listens: 502
        paymentServiceUrl: 'http://127.0.0.1:1',
        notificationServiceUrl: 'http://127.0.0.1:1',
        timeoutMs: 500,
        maxBodyBytes: 1024,
        jwtSecret: JWT_SECRET,
        serviceToken: SERVICE_TOKEN,
        rateLimitPerMinute: 1000,
        corsOrigins: ['https://shop.example'],
      }),
    );
  });

  afterAll(async () => {
    await gateway.close();
    await upstream.close();
    agent.destroy();
  });

  it('forwards under the prefix, with the body, and passes the request id through', async () => {
    const res = await fetch(`${gateway.url}/users/signup?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc-123', 'x-user-id': 'forged' },
      body: JSON.stringify({ email: 'a@b.c' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    const last = seen.at(-1)!;
    expect(last.path).toBe('/signup?x=1');
    expect(last.body).toBe('{"email":"a@b.c"}');
    expect(last.headers['x-request-id']).toBe('req-abc-123');
    expect(last.headers['x-user-id']).toBeUndefined(); // a client cannot forge the identity header
    expect(last.headers['x-service-token']).toBe(SERVICE_TOKEN); // the gateway vouches for the call
  });

  it("starts the trace itself: a client's traceparent, tracestate and baggage never reach a service", async () => {
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${gateway.url}/users/signup`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${clientTrace}-00f067aa0ba902b7-01`,
        tracestate: 'vendor=opaque',
        baggage: 'userId=forged,tenant=someone-else',
      },
      body: '{}',
    });
    const headers = seen.at(-1)!.headers;
    expect(headers.traceparent as string | undefined).not.toContain(clientTrace);
    expect([headers.tracestate, headers.baggage]).toEqual([undefined, undefined]);
  });

  it('verifies the token of protected routes and forwards only the verified user id', async () => {
    const res = await fetch(`${gateway.url}/users/add`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-user-id': 'forged' },
      body: '{}',
    });
    expect(res.status).toBe(201);
    expect(seen.at(-1)!.headers['x-user-id']).toBe(USER_ID);

    const missing = await fetch(`${gateway.url}/users/add`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);

    const expired = jwt.sign({}, JWT_SECRET, {
      algorithm: 'HS256',
      subject: USER_ID,
      issuer: 'paystream-user',
      audience: 'paystream',
      expiresIn: -10,
    });
    const forged = signUserToken('another-secret-another-secret-another-secret', USER_ID);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"${USER_ID}"}`).toString('base64url')}.`;
    for (const [token, detail] of [
      [expired, 'Token expired'],
      [forged, 'Invalid token'],
      [unsigned, 'Invalid token'],
    ]) {
      const r = await fetch(`${gateway.url}/users/add`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { detail: string }).detail).toBe(detail);
    }
  });

  it('sets security headers and answers CORS preflights only for allowed origins', async () => {
    const res = await fetch(`${gateway.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-powered-by')).toBeNull();

    const preflight = (origin: string) =>
      fetch(`${gateway.url}/orders/create`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('mints a request id when the caller sends none or a bad one', async () => {
    const res = await fetch(`${gateway.url}/users/add`, {
      method: 'POST',
      headers: { ...auth, 'x-request-id': 'bad id with spaces' },
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 413 problem+json for a body over the limit, declared or streamed', async () => {
    const big = 'x'.repeat(4096);
    const res = await fetch(`${gateway.url}/users/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const streamed = await fetch(`${gateway.url}/users/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
  });

  it('answers 504 when the upstream is too slow and 502 when it is down', async () => {
    const slow = await fetch(`${gateway.url}/users/setup-intent`, { method: 'POST', headers: auth });
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { type: string }).type).toMatch(/gateway-timeout$/);
    const down = await fetch(`${gateway.url}/orders/status/123`, { headers: auth });
    expect(down.status).toBe(502);
    expect(((await down.json()) as { type: string }).type).toMatch(/bad-gateway$/);
  });

  it('never exposes the internal payment-details route, and 404s unknown routes', async () => {
    const internal = await fetch(`${gateway.url}/users/get/00000000-0000-0000-0000-000000000000`);
    expect(internal.status).toBe(404);
    const unknown = await fetch(`${gateway.url}/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('forwards only the public routes: services’ health and metrics are 404, a wrong method 405 with Allow, even signed in', async () => {
    const before = seen.length;
    const notFound: [string, string][] = [
      ['GET', '/metrics'], // the gateway's own: on its admin port only
      ['GET', '/readyz'],
      ['GET', '/users/metrics'],
      ['GET', '/users/healthz'],
      ['GET', '/users/readyz'],
      ['GET', '/orders/metrics'],
      ['GET', '/orders/readyz'],
      ['GET', '/users/contact/00000000-0000-0000-0000-000000000000'],
      ['POST', '/users/add/extra'],
    ];
    for (const [method, path] of notFound) {
      const res = await fetch(`${gateway.url}${path}`, { method, headers: auth });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    const wrongMethod: [string, string, string][] = [
      ['GET', '/users/signup', 'POST'],
      ['DELETE', '/orders/status/x', 'GET'],
      ['POST', '/orders/status/x', 'GET'],
      ['GET', '/webhooks/stripe', 'POST'],
      ['DELETE', '/admin/webhooks/endpoints', 'GET, POST'],
    ];
    for (const [method, path, allow] of wrongMethod) {
      const res = await fetch(`${gateway.url}${path}`, { method, headers: auth });
      expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({
        method,
        path,
        status: 405,
        allow,
      });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(seen.length).toBe(before); // none of them reached a service
    expect((await fetch(`${gateway.url}/users/add`, { method: 'POST', headers: auth })).status).toBe(201);
  });
});

/** Opens a request from `localAddress` with the headers sent and the body's first byte, then stalls. */
function stalledRequest(url: string, localAddress: string, closed: () => void): http.ClientRequest {
  const target = new URL(url);
  const req = http.request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    localAddress,
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': '1000' },
  });
  req.on('error', () => undefined);
  req.on('response', (res) => res.resume().on('end', closed));
  req.on('close', closed);
  req.write('{');
  return req;
}

describe('gateway with slow clients', () => {
  it('300 connections trickling their bodies stall nobody else, and are cut off in bounded time', async () => {
    const upstream = await serve(express().use(express.json(), (_req, res) => res.json({ token: 't' })));
    // A small upstream pool, as a busy gateway's is: before bodies were read first, the stalled requests held it.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const gateway = await serve(
      createGatewayApp({
        logger: createLogger('gateway-test', 'silent'),
        agent,
        userServiceUrl: upstream.url,
        orderServiceUrl: upstream.url,
        paymentServiceUrl: upstream.url,
        notificationServiceUrl: upstream.url,
        timeoutMs: 2000,
        maxBodyBytes: 64 * 1024,
        budget: {
          concurrentPerClient: 20,
          headersTimeoutMs: 2000,
          bodyTimeoutMs: 3000,
          minBodyBytesPerSecond: 100,
          requestDeadlineMs: 6000,
        },
        jwtSecret: JWT_SECRET,
        serviceToken: SERVICE_TOKEN,
        rateLimitPerMinute: 100_000,
        corsOrigins: [],
      }),
    );
    const open = new Set<http.ClientRequest>();
    try {
      const started = Date.now();
      let closedCount = 0;
      for (let i = 0; i < 300; i++) {
        const req = stalledRequest(`${gateway.url}/users/signin`, '127.0.0.1', () => {
          if (open.delete(req)) closedCount++;
        });
        open.add(req);
      }
      await new Promise((r) => setTimeout(r, 300)); // all 300 connected, headers sent
      // Another client signs in at once: nothing it needs is held by the stalled ones.
      const signin = await new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const t0 = Date.now();
        const body = JSON.stringify({ email: 'a@example.com', password: 'x' });
        const req = http.request(
          `${gateway.url}/users/signin`,
          {
            method: 'POST',
            localAddress: '127.0.0.2',
            agent: false,
            headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
          },
          (res) => res.resume().on('end', () => resolve({ status: res.statusCode!, ms: Date.now() - t0 })),
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(signin.status).toBe(200);
      expect(signin.ms).toBeLessThan(1000);
      // Beyond 20 in flight the client is refused at once; the 20 are cut off by the rate and body timeouts.
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (open.size === 0 || Date.now() - started > 8000) {
            clearInterval(check);
            resolve();
          }
        }, 100);
      });
      expect({ stillOpen: open.size, closed: closedCount }).toEqual({ stillOpen: 0, closed: 300 });
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      for (const req of open) req.destroy();
      await gateway.close();
      await upstream.close();
      agent.destroy();
    }
  }, 20_000);
});

describe('gateway rate limit', () => {
  /** A gateway with these limits in front of an upstream that answers 200 to everything. */
  async function limitedGateway(
    limits: Pick<
      GatewayAppDeps,
      'rateLimitPerMinute' | 'invalidTokensPerMinute' | 'webhookRateLimitPerMinute'
    >,
  ) {
    const upstream = await serve(express().use((_req, res) => res.json({ ok: true })));
    const agent = createAgent();
    const gateway = await serve(
      createGatewayApp({
        logger: createLogger('gateway-test', 'silent'),
        agent,
        userServiceUrl: upstream.url,
        orderServiceUrl: upstream.url,
        paymentServiceUrl: upstream.url,
        notificationServiceUrl: upstream.url,
        timeoutMs: 1000,
        maxBodyBytes: 1024,
        jwtSecret: JWT_SECRET,
        serviceToken: SERVICE_TOKEN,
        corsOrigins: [],
        ...limits,
      }),
    );
    const close = async () => {
      await gateway.close();
      await upstream.close();
      agent.destroy();
    };
    return { gateway, close };
  }

  it('answers 429 with Retry-After once a client spent its budget, per client', async () => {
    const { gateway, close } = await limitedGateway({ rateLimitPerMinute: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await fetch(`${gateway.url}/orders/status/x`, { headers: auth })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = await fetch(`${gateway.url}/orders/status/x`, { headers: auth });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await limited.json()) as { type: string }).type).toMatch(/rate-limited$/);
      // Another user has a budget of their own.
      const other = {
        authorization: `Bearer ${signUserToken(JWT_SECRET, '0b7e7c9e-2f55-4df0-8a55-7a4d0a3c9b10')}`,
      };
      expect((await fetch(`${gateway.url}/orders/status/x`, { headers: other })).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('throttles bad tokens before checking them, and Stripe’s webhook route, each per client', async () => {
    const { gateway, close } = await limitedGateway({
      rateLimitPerMinute: 100_000,
      invalidTokensPerMinute: 10,
      webhookRateLimitPerMinute: 3,
    });
    try {
      const forged = {
        authorization: `Bearer ${signUserToken('not-the-gateway-secret-0123456789abcdef', USER_ID)}`,
      };
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++)
        statuses.push((await fetch(`${gateway.url}/orders/status/x`, { headers: forged })).status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(10);
      expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
      const hooks: number[] = [];
      for (let i = 0; i < 5; i++)
        hooks.push((await fetch(`${gateway.url}/webhooks/stripe`, { method: 'POST', body: '{}' })).status);
      expect(hooks).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await close();
    }
  });
});
