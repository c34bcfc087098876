import type { NextFunction, Request, Response } from 'express';
import { HttpProblem } from '@paystream/common/problem';
import { rateLimit, tokenBuckets } from '../../src/edge';

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
  function call(handler: ReturnType<typeof rateLimit>, req: { userId?: string; remoteAddress?: string }) {
    const headers: Record<string, string> = {};
    const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
    let passed: unknown = 'not called';
    const next: NextFunction = (err?: unknown) => (passed = err);
    const request = {
      userId: req.userId,
      socket: { remoteAddress: req.remoteAddress },
    } as unknown as Request;
    void handler(request, res, next);
    return { headers, error: passed };
  }

  it('sets the ratelimit headers and passes allowed requests on', () => {
    const handler = rateLimit(2, clock().now);
    expect(call(handler, { remoteAddress: '10.0.0.1' })).toEqual({
      headers: { 'ratelimit-limit': '2', 'ratelimit-remaining': '1' },
      error: undefined,
    });
  });

  it('answers 429 rate-limited with retryAfter once the bucket is empty', () => {
    const handler = rateLimit(2, clock().now);
    call(handler, { remoteAddress: '10.0.0.1' });
    call(handler, { remoteAddress: '10.0.0.1' });
    const { headers, error } = call(handler, { remoteAddress: '10.0.0.1' });
    expect(headers['ratelimit-remaining']).toBe('0');
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).toBody()).toMatchObject({
      status: 429,
      retryAfter: 30,
      detail: 'Slow down',
    });
  });

  it('counts a signed-in user by id, not by address', () => {
    const handler = rateLimit(1, clock().now);
    expect(call(handler, { userId: 'u1', remoteAddress: '10.0.0.1' }).error).toBeUndefined();
    expect(call(handler, { userId: 'u2', remoteAddress: '10.0.0.1' }).error).toBeUndefined();
    expect(call(handler, { remoteAddress: '10.0.0.1' }).error).toBeUndefined();
    expect(call(handler, { userId: 'u1', remoteAddress: '10.0.0.2' }).error).toBeInstanceOf(HttpProblem);
  });
});
