import type http from 'node:http';
import { createServiceApp, finish, healthRoutes, problems, type Logger } from '@paystream/common';
import type { Express } from 'express';
import { authenticate, cors, rateLimit, securityHeaders, trustedHeaders } from './edge';
import { proxy } from './proxy';

export interface GatewayAppDeps {
  logger: Logger;
  userServiceUrl: string;
  orderServiceUrl: string;
  /** Stripe's webhooks go here (the payment service verifies their signatures). */
  paymentServiceUrl: string;
  agent: http.Agent;
  jwtSecret: string;
  serviceToken: string;
  rateLimitPerMinute: number;
  corsOrigins: readonly string[];
  timeoutMs: number;
  maxBodyBytes: number;
}

/** The user service's service-to-service routes: never routed from outside. */
const INTERNAL_ROUTES = ['/users/get', '/users/contact'];

/** Identity headers only the gateway may set; clients' copies are stripped before proxying. */
export const RESERVED_HEADERS = ['x-user-id', 'x-service-token'];

async function upstreamHealthy(baseUrl: string): Promise<void> {
  const res = await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(1500) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

/**
 * Public routes (prefix removed before proxying):
 *   POST /users/signup, POST /users/signin            → user   (no token)
 *   POST /users/add                                   → user   (token)
 *   POST /users/setup-intent (card for later, SCA)    → user   (token)
 *   POST /orders/create, GET /orders/status/:orderId  → order  (token)
 *   GET /orders?limit&cursor&status (history)        → order  (token)
 *   POST /webhooks/stripe (Stripe-Signature, raw body) → payment (no token; ≤ 64 KiB)
 * The user service's internal GET /get/:userId and /contact/:userId are never reachable from outside.
 */
export function createGatewayApp(deps: GatewayAppDeps): Express {
  const { logger, agent, timeoutMs, maxBodyBytes } = deps;
  const app = createServiceApp({ logger, parseJson: false });
  app.use(securityHeaders, cors(deps.corsOrigins));
  app.use(
    healthRoutes({
      user: () => upstreamHealthy(deps.userServiceUrl),
      order: () => upstreamHealthy(deps.orderServiceUrl),
    }),
  );
  app.use(INTERNAL_ROUTES, (req, _res, next) =>
    next(problems.notFound(`No route for ${req.method} ${req.originalUrl}`)),
  );
  const common = {
    agent,
    timeoutMs,
    maxBodyBytes,
    reservedHeaders: RESERVED_HEADERS,
    trustedHeaders: trustedHeaders(deps.serviceToken),
  };
  const guard = [authenticate(deps.jwtSecret), rateLimit(deps.rateLimitPerMinute)];
  // Stripe signs its webhooks; the payment service checks that on the untouched body.
  app.post(
    '/webhooks/stripe',
    proxy({
      ...common,
      trustedHeaders: undefined,
      maxBodyBytes: 64 * 1024,
      upstream: deps.paymentServiceUrl,
    }),
  );
  app.use('/users', guard, proxy({ ...common, upstream: deps.userServiceUrl }));
  app.use('/orders', guard, proxy({ ...common, upstream: deps.orderServiceUrl }));
  return finish(app, logger);
}
