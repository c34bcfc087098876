import type { NextFunction, Request, Response } from 'express';
import { clientAddressOf, clientKey, trustedProxies } from '@paystream/common/client-address';
import { HttpProblem } from '@paystream/common/problem';
import { memoryLimiter, rateLimit, tokenBuckets } from '../../src/limits';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('tokenBuckets', () => {
  it('allows a burst of perMinute requests, then refuses with the wait until the next token', () => {
    const c = clock();
    const buckets = tokenBuckets(60, c.now); // one token a second
    const remaining = Array.from({ length: 60 }, () => buckets.take('a'));
    expect(remaining.every((d) => d.allowed)).toBe(true);
    expect(remaining.map((d) => d.remaining).slice(0, 3)).toEqual([59, 58, 57]);
    expect(remaining.at(-1)?.remaining).toBe(0);

    expect(buckets.take('a')).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
  });

  it('refills at perMinute/60 tokens a second, never above perMinute', () => {
    const c = clock();
    const buckets = tokenBuckets(6, c.now); // one token every 10 s
    for (let i = 0; i < 6; i++) buckets.take('a');
    c.advance(4_000);
    expect(buckets.take('a')).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 6 });
    c.advance(6_000);
    expect(buckets.take('a')).toMatchObject({ allowed: true, remaining: 0 });
    c.advance(3_600_000); // an hour idle: back to a full bucket, not 360 tokens
    expect(buckets.take('a').remaining).toBe(5);
  });

  it('keeps one bucket per key', () => {
    const buckets = tokenBuckets(1, clock().now);
    expect(buckets.take('user:1').allowed).toBe(true);
    expect(buckets.take('user:1').allowed).toBe(false);
    expect(buckets.take('user:2').allowed).toBe(true);
  });

  it('sweeps only buckets that have refilled completely', () => {
    const c = clock();
    const buckets = tokenBuckets(60, c.now);
    buckets.take('old');
    c.advance(30_000);
    buckets.take('recent');
    c.advance(500);
    buckets.sweep();
    expect(buckets.size).toBe(1); // "old" refilled its one token long ago, "recent" has not yet
    c.advance(1_000);
    buckets.sweep();
    expect(buckets.size).toBe(0);
  });
});

describe('rateLimit middleware', () => {
  async function call(handler: ReturnType<typeof rateLimit>, req: { userId?: string; clientKey?: string }) {
    const headers: Record<string, string> = {};
    const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
    const error = await new Promise<unknown>((resolve) => {
      const next: NextFunction = (err?: unknown) => resolve(err);
      handler({ userId: req.userId, clientKey: req.clientKey } as unknown as Request, res, next);
    });
    return { headers, error };
  }
  const limited = (perMinute: number) => rateLimit(memoryLimiter(clock().now), perMinute);

  it('sets the ratelimit headers and passes allowed requests on', async () => {
    expect(await call(limited(2), { clientKey: '10.0.0.1' })).toEqual({
      headers: { 'ratelimit-limit': '2', 'ratelimit-remaining': '1' },
      error: undefined,
    });
  });

  it('answers 429 rate-limited with retryAfter once the bucket is empty', async () => {
    const handler = limited(2);
    await call(handler, { clientKey: '10.0.0.1' });
    await call(handler, { clientKey: '10.0.0.1' });
    const { headers, error } = await call(handler, { clientKey: '10.0.0.1' });
    expect(headers['ratelimit-remaining']).toBe('0');
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).toBody()).toMatchObject({
      status: 429,
      retryAfter: 30,
      detail: 'Slow down',
    });
  });

  it('counts a signed-in user by id, not by address', async () => {
    const handler = limited(1);
    expect((await call(handler, { userId: 'u1', clientKey: '10.0.0.1' })).error).toBeUndefined();
    expect((await call(handler, { userId: 'u2', clientKey: '10.0.0.1' })).error).toBeUndefined();
    expect((await call(handler, { clientKey: '10.0.0.1' })).error).toBeUndefined();
    expect((await call(handler, { userId: 'u1', clientKey: '10.0.0.2' })).error).toBeInstanceOf(HttpProblem);
  });
});

describe('the client behind proxies', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '127.0.0.1']);

  it('is the TCP peer unless that is a trusted proxy', () => {
    expect(clientAddressOf('203.0.113.50', '198.51.100.1', trusted)).toBe('203.0.113.50'); // XFF not believed
    expect(clientAddressOf('10.1.2.3', '198.51.100.7, 203.0.113.9', trusted)).toBe('203.0.113.9');
  });

  it('is the last untrusted X-Forwarded-For hop: what a client wrote left of it proves nothing', () => {
    expect(clientAddressOf('10.1.2.3', '203.0.113.9, 10.2.2.2', trusted)).toBe('203.0.113.9');
    expect(clientAddressOf('10.1.2.3', 'not-an-address, 203.0.113.9', trusted)).toBe('203.0.113.9');
    expect(clientAddressOf('10.1.2.3', '203.0.113.9, not-an-address', trusted)).toBe('10.1.2.3');
    expect(clientAddressOf('::ffff:127.0.0.1', '2001:db8:1:2:3:4:5:6', trusted)).toBe('2001:db8:1:2:3:4:5:6');
  });

  it('is counted by its IPv6 /64: rotating addresses inside one network buys nothing', () => {
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe(clientKey('2001:db8:1:2:ffff::1'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('198.51.100.7')).toBe('198.51.100.7');
  });
});
