import type { BlockList } from 'node:net';
import {
  bearerToken,
  CLIENT_ADDRESS_HEADER,
  SERVICE_TOKEN_HEADER,
  USER_ID_HEADER,
  verifyUserToken,
} from '@paystream/common/auth';
import { clientAddressOf, clientKey } from '@paystream/common/client-address';
import { type HttpProblem, problems } from '@paystream/common/problem';
import type { Request, RequestHandler } from 'express';
import type { Limiter } from './limits';

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
const PUBLIC_ROUTES = new Set(
  ['signup', 'signin', 'refresh', 'signout', 'password-reset', 'password-reset/confirm', 'verify-email'].map(
    (route) => `POST /users/${route}`,
  ),
);

/**
 * Verifies the bearer token of protected routes and remembers the user id for the upstream headers. A client
 * that keeps sending bad tokens (missing, forged, expired) spends `invalidPerMinute` from its own bucket and
 * then gets 429 before any signature is checked: each check costs an HMAC.
 */
export function authenticate(
  jwtSecret: string,
  invalid: { limiter: Limiter; perMinute: number },
): RequestHandler {
  return (req, _res, next) => {
    if (PUBLIC_ROUTES.has(`${req.method} ${(req.baseUrl + req.path).replace(/\/$/, '')}`)) {
      next();
      return;
    }
    const key = `badtoken:${req.clientKey}`;
    const refuse = (problem: HttpProblem) =>
      invalid.limiter.take(key, invalid.perMinute).then(() => next(problem), next);
    invalid.limiter.peek(key, invalid.perMinute).then((hasRoom) => {
      if (!hasRoom) {
        next(problems.rateLimited(60, 'Too many requests with a missing or invalid token; sign in again'));
        return;
      }
      const token = bearerToken(req.get('authorization'));
      if (!token) {
        void refuse(problems.unauthorized('Send Authorization: Bearer <token> from POST /users/signin'));
        return;
      }
      try {
        req.userId = verifyUserToken(jwtSecret, token);
      } catch (err) {
        void refuse(err as HttpProblem);
        return;
      }
      next();
    }, next);
  };
}

/** The client's address and the key its limits count by, once, for everything after (TRUSTED_PROXIES). */
export function clientIdentity(trusted: BlockList): RequestHandler {
  return (req, _res, next) => {
    req.clientAddress = clientAddressOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
    req.clientKey = clientKey(req.clientAddress);
    next();
  };
}

/** What the gateway vouches for upstream: it is the gateway calling, and (when signed in) who the user is. */
export function trustedHeaders(serviceToken: string) {
  return (req: Request): Record<string, string> => ({
    [SERVICE_TOKEN_HEADER]: serviceToken,
    [CLIENT_ADDRESS_HEADER]: req.clientKey ?? 'unknown',
    ...(req.userId ? { [USER_ID_HEADER]: req.userId } : {}),
  });
}
