import { bearerToken, USER_ID_HEADER, SERVICE_TOKEN_HEADER, verifyUserToken } from '@paystream/common/auth';
import { problems } from '@paystream/common/problem';
import type { Request, RequestHandler } from 'express';

/** Headers for an API that serves JSON only: nothing may frame, sniff or embed its answers. */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
  res.setHeader('cache-control', 'no-store');
  next();
};

/**
 * CORS for an explicit allow-list of browser origins (none by default). Preflights are answered here,
 * before authentication, because browsers send them without credentials.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.get('origin');
    res.vary('Origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', 'x-request-id, retry-after, ratelimit-remaining');
    }
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      if (origin && allowed.has(origin)) {
        res.setHeader('access-control-allow-methods', 'GET, POST');
        res.setHeader(
          'access-control-allow-headers',
          'authorization, content-type, idempotency-key, x-request-id',
        );
        res.setHeader('access-control-max-age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Routes anyone may call; every other proxied route needs a valid user token. */
const PUBLIC_ROUTES = new Set(['POST /users/signup', 'POST /users/signin']);

/** Verifies the bearer token of protected routes and remembers the user id for the upstream headers. */
export function authenticate(jwtSecret: string): RequestHandler {
  return (req, _res, next) => {
    if (PUBLIC_ROUTES.has(`${req.method} ${(req.baseUrl + req.path).replace(/\/$/, '')}`)) {
      next();
      return;
    }
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      next(problems.unauthorized('Send Authorization: Bearer <token> from POST /users/signin'));
      return;
    }
    req.userId = verifyUserToken(jwtSecret, token);
    next();
  };
}

/** What the gateway vouches for upstream: it is the gateway calling, and (when signed in) who the user is. */
export function trustedHeaders(serviceToken: string) {
  return (req: Request): Record<string, string> => ({
    [SERVICE_TOKEN_HEADER]: serviceToken,
    ...(req.userId ? { [USER_ID_HEADER]: req.userId } : {}),
  });
}

/** One request's answer from the token buckets. */
export interface TokenDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: seconds until one token is back. */
  retryAfterSeconds: number;
}

/**
 * Token buckets keyed by client: `perMinute` tokens a minute on average, bursts up to the same number.
 * Pure bookkeeping with an injectable clock; `rateLimit` wires it to requests.
 */
export function tokenBuckets(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refillPerMs = perMinute / 60_000;
  return {
    take(key: string): TokenDecision {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * refillPerMs);
      b.at = t;
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

/**
 * Per-client token bucket (a signed-in user by id, anyone else by address): `perMinute` requests a
 * minute on average, bursts up to the same number. In memory, per gateway instance: each replica
 * enforces its own share, which is what an edge limiter in front of a pool of replicas does.
 */
export function rateLimit(
  perMinute: number,
  now: () => number = Date.now,
  keyOf: (req: Request) => string = (req) =>
    req.userId ? `user:${req.userId}` : `addr:${req.socket.remoteAddress ?? 'unknown'}`,
): RequestHandler {
  const buckets = tokenBuckets(perMinute, now);
  setInterval(() => buckets.sweep(), 60_000).unref();

  return (req, res, next) => {
    const key = keyOf(req);
    const decision = buckets.take(key);
    res.setHeader('ratelimit-limit', String(perMinute));
    res.setHeader('ratelimit-remaining', String(decision.remaining));
    if (!decision.allowed) {
      next(problems.rateLimited(decision.retryAfterSeconds, 'Slow down'));
      return;
    }
    next();
  };
}
