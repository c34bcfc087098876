import { type Logger } from '@paystream/common/logger';
import { registry } from '@paystream/common/metrics';
import { problems } from '@paystream/common/problem';
import type { Request, RequestHandler } from 'express';
import { Counter } from 'prom-client';

/** One request's answer from a token bucket. */
export interface TokenDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: seconds until one token is back. */
  retryAfterSeconds: number;
}

/**
 * Token buckets by key, `perMinute` tokens a minute on average and bursts up to the same number. Where they
 * live decides what a limit means: in one gateway's memory each replica enforces its own share, so the chart's
 * autoscaler multiplies every limit by the replica count; in a shared store (Valkey or Redis) a limit holds
 * across replicas.
 */
export interface Limiter {
  /** Takes one token from `key`'s bucket. */
  take(key: string, perMinute: number): Promise<TokenDecision>;
  /** Whether `key`'s bucket has a token, without taking one. */
  peek(key: string, perMinute: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Pure bookkeeping with an injectable clock: one bucket per key, all of one size. */
export function tokenBuckets(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = perMinute / 60_000;
  const refill = (key: string) => {
    const t = now();
    const b = buckets.get(key) ?? { tokens: perMinute, at: t };
    b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * refillPerMs);
    b.at = t;
    return b;
  };
  return {
    take(key: string): TokenDecision {
      const b = refill(key);
      buckets.set(key, b);
      if (b.tokens < 1)
        return {
          allowed: false,
          remaining: 0,
          retryAfterSeconds: Math.ceil((1 - b.tokens) / refillPerMs / 1000),
        };
      b.tokens -= 1;
      return { allowed: true, remaining: Math.floor(b.tokens), retryAfterSeconds: 0 };
    },
    peek(key: string): boolean {
      return !buckets.has(key) || refill(key).tokens >= 1;
    },
    /** Full buckets carry no information; drop them so the map stays as small as the active clients. */
    sweep(): void {
      const t = now();
      for (const [key, b] of buckets)
        if (b.tokens + (t - b.at) * refillPerMs >= perMinute) buckets.delete(key);
    },
    get size(): number {
      return buckets.size;
    },
  };
}

/** Buckets in this process's memory (no shared store configured). */
export function memoryLimiter(now: () => number = Date.now): Limiter {
  const bySize = new Map<number, ReturnType<typeof tokenBuckets>>();
  const of = (perMinute: number) => {
    let buckets = bySize.get(perMinute);
    if (!buckets) bySize.set(perMinute, (buckets = tokenBuckets(perMinute, now)));
    return buckets;
  };
  const sweeper = setInterval(() => bySize.forEach((b) => b.sweep()), 60_000).unref();
  return {
    take: (key, perMinute) => Promise.resolve(of(perMinute).take(key)),
    peek: (key, perMinute) => Promise.resolve(of(perMinute).peek(key)),
    close: () => {
      clearInterval(sweeper);
      return Promise.resolve();
    },
  };
}

const storeFailures = new Counter({
  name: 'rate_limit_store_failures_total',
  help: 'Rate-limit decisions the shared store could not make (the request was let through); PaystreamRateLimitStoreDown',
  registers: [registry],
});

/**
 * One bucket, refilled and taken from in one step on the store's own clock (the replicas' clocks may differ):
 * KEYS[1] the bucket; ARGV capacity, take (1) or peek (0). Answers {allowed, tokens left}.
 */
const BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local per_ms = capacity / 60000
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local allowed = 0
if tokens >= 1 then
  allowed = 1
  if ARGV[2] == '1' then tokens = tokens - 1 end
end
if ARGV[2] == '1' or b[1] then
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', now)
  redis.call('PEXPIRE', KEYS[1], 60000)
end
return {allowed, tostring(tokens)}
`;

/**
 * Buckets in Valkey or Redis (RATE_LIMIT_REDIS_URL), shared by every gateway replica. When the store cannot
 * answer within `timeoutMs` the request goes through (failing open: a limiter outage must not become an API
 * outage), counted in rate_limit_store_failures_total and alerted.
 */
export async function redisLimiter(url: string, logger: Logger, timeoutMs = 100): Promise<Limiter> {
  // Loaded only where a store is configured: the client is a few MB an idle gateway does not need otherwise.
  const { createClient } = await import('redis');
  const client = createClient({
    url,
    // A command while disconnected fails at once (and the request goes through) instead of queueing.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(retries * 200, 5000) },
  });
  let lastWarning = 0;
  client.on('error', (err: Error) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn(
      { err: { type: err.name, message: err.message } },
      'rate-limit store unreachable; limits fail open',
    );
  });
  // Not up yet: the client keeps reconnecting by itself (its connect() settles only then), and requests go
  // through meanwhile; the gateway does not wait more than a moment for it to start.
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  await Promise.race([connected, new Promise((r) => setTimeout(r, 2000).unref())]);
  const bucket = async (key: string, perMinute: number, take: boolean): Promise<[number, number]> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = (await Promise.race([
        client.eval(BUCKET_SCRIPT, {
          keys: [`paystream:rl:${perMinute}:${key}`],
          arguments: [String(perMinute), take ? '1' : '0'],
        }),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ])) as [number, string];
      return [Number(answer[0]), Number(answer[1])];
    } catch {
      storeFailures.inc();
      return [1, perMinute];
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async take(key, perMinute) {
      const [allowed, tokens] = await bucket(key, perMinute, true);
      return allowed
        ? { allowed: true, remaining: Math.floor(tokens), retryAfterSeconds: 0 }
        : { allowed: false, remaining: 0, retryAfterSeconds: Math.ceil((1 - tokens) / (perMinute / 60)) };
    },
    async peek(key, perMinute) {
      return (await bucket(key, perMinute, false))[0] === 1;
    },
    close: async () => {
      await client.close().catch(() => undefined);
    },
  };
}

/**
 * A bucket per client (by `keyOf`: a signed-in user by id, anyone else by address): `perMinute` requests a
 * minute, bursts up to the same; over it, 429 with Retry-After.
 */
export function rateLimit(
  limiter: Limiter,
  perMinute: number,
  keyOf: (req: Request) => string = (req) => (req.userId ? `user:${req.userId}` : `addr:${req.clientKey}`),
): RequestHandler {
  return (req, res, next) => {
    limiter.take(keyOf(req), perMinute).then((decision) => {
      res.setHeader('ratelimit-limit', String(perMinute));
      res.setHeader('ratelimit-remaining', String(decision.remaining));
      if (!decision.allowed) {
        next(problems.rateLimited(decision.retryAfterSeconds, 'Slow down'));
        return;
      }
      next();
    }, next);
  };
}
