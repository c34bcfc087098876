import { createHash } from 'node:crypto';
import { bearerToken, CLIENT_ADDRESS_HEADER, SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { API_KEY_PATTERN, OPERATOR_HEADERS, type Operator } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import type { Request, RequestHandler } from 'express';
import { upstreamCall } from './upstream-get';

export type AdminService = 'user' | 'order' | 'payment' | 'notification';

/**
 * The operator API, method and path, and the service that answers each (forwarded unchanged: the services
 * serve these routes under /admin themselves). Only these are forwarded; every other /admin path is a 404.
 */
export const ADMIN_ROUTES: readonly (readonly [method: string, path: RegExp, service: AdminService])[] = [
  ['GET', /^\/admin\/orders$/, 'order'],
  ['GET', /^\/admin\/orders\/[^/]+$/, 'order'],
  ['GET', /^\/admin\/stats\/orders$/, 'order'],
  ['POST', /^\/admin\/orders\/[^/]+\/(refunds|capture|void)$/, 'payment'],
  ['GET', /^\/admin\/drift$/, 'payment'],
  ['POST', /^\/admin\/drift\/[^/]+\/resolve$/, 'payment'],
  ['GET', /^\/admin\/dlq$/, 'notification'],
  ['POST', /^\/admin\/dlq\/replay$/, 'notification'],
  ['GET', /^\/admin\/webhooks\/endpoints$/, 'notification'],
  ['POST', /^\/admin\/webhooks\/endpoints$/, 'notification'],
  ['POST', /^\/admin\/webhooks\/endpoints\/[^/]+\/(rotate|disable|enable)$/, 'notification'],
  ['GET', /^\/admin\/webhooks\/deliveries$/, 'notification'],
  ['POST', /^\/admin\/webhooks\/deliveries\/[^/]+\/redeliver$/, 'notification'],
  ['GET', /^\/admin\/key$/, 'user'],
  ['GET', /^\/admin\/audit$/, 'user'],
];

export const adminService = (method: string, path: string): AdminService | undefined =>
  ADMIN_ROUTES.find(([m, pattern]) => m === method && pattern.test(path))?.[2];

/**
 * Checks the API key of an operator request with the user service (which keeps only hashes) and remembers the
 * answer for `cacheMs` (a revoked key stops working within that time), keyed by the key's hash so the map
 * holds no secret. A customer's token, a malformed key, an unknown or revoked one: 401.
 */
export function operatorAuth(deps: {
  userServiceUrl: string;
  serviceToken: string;
  cacheMs?: number;
}): RequestHandler {
  const cacheMs = deps.cacheMs ?? 30_000;
  const known = new Map<string, { operator: Operator | undefined; until: number }>();
  setInterval(() => {
    const now = Date.now();
    for (const [hash, entry] of known) if (entry.until < now) known.delete(hash);
  }, 60_000).unref();

  async function verify(key: string): Promise<Operator | undefined> {
    const hash = createHash('sha256').update(key).digest('hex');
    const hit = known.get(hash);
    if (hit && hit.until > Date.now()) return hit.operator;
    // No answer in time, a refused connection, an error: the key cannot be checked now (503), not a 500.
    const res = await upstreamCall(new URL('/internal/api-keys/verify', deps.userServiceUrl), 3000, {
      method: 'POST',
      headers: { [SERVICE_TOKEN_HEADER]: deps.serviceToken },
      json: { key },
    }).catch(() => ({ status: 0, body: '' }));
    if (res.status !== 200 && res.status !== 401)
      throw problems.unavailable('API keys cannot be checked now');
    const operator = res.status === 200 ? (JSON.parse(res.body) as Operator) : undefined;
    if (known.size > 10_000) known.clear(); // a flood of random keys cannot grow it without bound
    known.set(hash, { operator, until: Date.now() + cacheMs });
    return operator;
  }

  return (req, _res, next) => {
    const key = bearerToken(req.get('authorization'));
    if (!key || !API_KEY_PATTERN.test(key)) {
      next(
        problems.unauthorized(
          'Send Authorization: Bearer <API key> (psk_…); customer tokens are not accepted here',
        ),
      );
      return;
    }
    verify(key).then(
      (operator) => {
        if (!operator) next(problems.unauthorized('Unknown or revoked API key'));
        else {
          req.operator = operator;
          next();
        }
      },
      (err: unknown) => next(err),
    );
  };
}

/** What the gateway vouches for upstream on an operator request: it is the gateway, and which key. */
export function operatorHeaders(serviceToken: string) {
  return (req: Request): Record<string, string> => ({
    [SERVICE_TOKEN_HEADER]: serviceToken,
    [CLIENT_ADDRESS_HEADER]: req.clientKey ?? 'unknown',
    ...(req.operator
      ? {
          [OPERATOR_HEADERS.keyId]: req.operator.keyId,
          // Header values are latin-1: a name in another script travels percent-encoded.
          [OPERATOR_HEADERS.keyName]: encodeURIComponent(req.operator.name),
          [OPERATOR_HEADERS.scopes]: req.operator.scopes.join(','),
        }
      : {}),
  });
}
