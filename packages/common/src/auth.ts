import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { problems } from './problem';

/**
 * Trust model: the gateway verifies the caller's JWT and forwards `x-user-id` together with the shared
 * `x-service-token`; clients' copies of both are stripped at the gateway. A service accepts `x-user-id`
 * only next to a valid service token, so a request that bypasses the gateway cannot claim an identity.
 * Service-to-service calls (payment → user) present the same service token.
 */
export const USER_ID_HEADER = 'x-user-id';
export const SERVICE_TOKEN_HEADER = 'x-service-token';
/** The client's address as the gateway determined it (its limit key: clientKey); believed only with the token. */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

const ISSUER = 'paystream-user';
const AUDIENCE = 'paystream';

export function signUserToken(secret: string, userId: string, ttlSeconds = 15 * 60): string {
  return jwt.sign({}, secret, {
    algorithm: 'HS256',
    subject: userId,
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: ttlSeconds,
  });
}

/** Returns the user id (`sub`) of a valid token; throws a 401 problem otherwise. */
export function verifyUserToken(secret: string, token: string): string {
  try {
    const payload = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    if (typeof payload === 'string' || typeof payload.sub !== 'string') throw new Error('no subject');
    // A token without `exp` would be valid forever: refused, whoever signed it.
    if (typeof payload.exp !== 'number') throw new Error('no expiry');
    return payload.sub;
  } catch (err) {
    const expired = err instanceof jwt.TokenExpiredError;
    throw problems.unauthorized(expired ? 'Token expired' : 'Invalid token');
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '');
  return match?.[1];
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requireUser`: the authenticated caller. */
    userId?: string;
  }
}

/** For routes behind the gateway: the caller's id as vouched for by the gateway. */
export function requireUser(serviceToken: string): RequestHandler {
  return (req, _res, next) => {
    const token = req.get(SERVICE_TOKEN_HEADER);
    const userId = req.get(USER_ID_HEADER);
    if (!token || !safeEqual(token, serviceToken) || !userId) {
      next(problems.unauthorized('Sign in and call through the gateway'));
      return;
    }
    req.userId = userId;
    next();
  };
}

/**
 * The caller's address, for per-client limits: what the gateway determined (TRUSTED_PROXIES, IPv6 by /64) when
 * the request came through it, the socket's peer otherwise. A client cannot set it: the gateway strips the
 * header, and without the service token it is not believed.
 */
export function clientAddress(req: Request, serviceToken: string): string {
  const token = req.get(SERVICE_TOKEN_HEADER);
  const vouched = req.get(CLIENT_ADDRESS_HEADER);
  if (token && vouched && safeEqual(token, serviceToken)) return vouched;
  return req.socket.remoteAddress ?? 'unknown';
}

/** For internal routes: only other Paystream services (holding the service token) get through. */
export function requireService(serviceToken: string): RequestHandler {
  return (req, _res, next) => {
    const token = req.get(SERVICE_TOKEN_HEADER);
    if (!token || !safeEqual(token, serviceToken) || req.get(USER_ID_HEADER)) {
      next(problems.forbidden('This route is for Paystream services only'));
      return;
    }
    next();
  };
}
