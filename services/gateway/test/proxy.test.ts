import { createLogger } from '@paystream/common';
import express from 'express';
import { createGatewayApp } from '../src/app';
import { createAgent } from '../src/proxy';
import { serve, type RunningApp } from '../../../test/support';

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
    app.get('/slow', (_req, res) => {
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
        timeoutMs: 500,
        maxBodyBytes: 1024,
      }),
    );
  });

  afterAll(async () => {
    await gateway.close();
    await upstream.close();
    agent.destroy();
  });

  it('forwards under the prefix, streams the body and passes the request id through', async () => {
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
  });

  it('mints a request id when the caller sends none or a bad one', async () => {
    const res = await fetch(`${gateway.url}/users/anything`, {
      headers: { 'x-request-id': 'bad id with spaces' },
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
    const slow = await fetch(`${gateway.url}/users/slow`);
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { type: string }).type).toMatch(/gateway-timeout$/);
    const down = await fetch(`${gateway.url}/orders/status/123`);
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
});
