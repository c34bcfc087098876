import type http from 'node:http';
import { BlockList } from 'node:net';
import { CLIENT_ADDRESS_HEADER } from '@paystream/common/auth';
import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import { OPERATOR_HEADERS } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import express, { type Express } from 'express';
import { authenticate, clientIdentity, cors, securityHeaders, trustedHeaders } from './edge';
import { memoryLimiter, rateLimit, type Limiter } from './limits';
import { consoleRoutes } from './console';
import { demoRoutes, type DemoOptions } from './demo';
import { apiSources, docsRoutes, openApiRoute } from './openapi';
import { ADMIN_ROUTES, adminService, operatorAuth, operatorHeaders, type AdminService } from './operators';
import { proxy } from './proxy';
import { concurrencyCap, edgeBudget, requestDeadline, type EdgeBudget } from './slow-clients';
import { loadConfig } from '@paystream/common/config';
import { upstreamGet } from './upstream-get';

export interface GatewayAppDeps {
  logger: Logger;
  userServiceUrl: string;
  orderServiceUrl: string;
  /** Stripe's webhooks go here (the payment service verifies their signatures). */
  paymentServiceUrl: string;
  /** The operator API's DLQ and webhook endpoints. */
  notificationServiceUrl: string;
  /** How long a verified API key is remembered (GATEWAY_KEY_CACHE_SECONDS). */
  keyCacheSeconds?: number;
  agent: http.Agent;
  jwtSecret: string;
  serviceToken: string;
  rateLimitPerMinute: number;
  /** Requests with a bad token per client per minute before 429 (GATEWAY_INVALID_TOKENS_PER_MINUTE; 30). */
  invalidTokensPerMinute?: number;
  /** POST /webhooks/stripe per client per minute (GATEWAY_WEBHOOK_RATE_LIMIT; 1200). */
  webhookRateLimitPerMinute?: number;
  /** Where the buckets live: the shared store (RATE_LIMIT_REDIS_URL), or this process's memory (the default). */
  limiter?: Limiter;
  /** The proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES; none by default). */
  trustedProxies?: BlockList;
  corsOrigins: readonly string[];
  timeoutMs: number;
  maxBodyBytes: number;
  /** What one client may hold and how slowly it may send (slow-clients.ts); the configuration's defaults. */
  budget?: EdgeBudget;
  /** The checkout page at /demo; none in production. */
  demo?: DemoOptions;
}

/**
 * The public API, method and path: the only requests the gateway forwards. Anything else — the services'
 * own /metrics, /readyz and /healthz, the user service's internal /get and /contact, a wrong method —
 * is a 404 here (orchestrators reach health and metrics on each service's own port).
 */
const PUBLIC_ROUTES: readonly (readonly [method: string, path: RegExp])[] = [
  [
    'POST',
    /^\/users\/(signup|signin|refresh|signout|signout-all|password|password-reset|password-reset\/confirm|verify-email|verify-email\/resend|add|setup-intent)$/,
  ],
  ['POST', /^\/orders\/create$/],
  ['GET', /^\/orders\/status\/[^/]+$/],
  ['GET', /^\/orders\/?$/],
  ['POST', /^\/orders\/[^/]+\/cancel$/],
  ['POST', /^\/webhooks\/stripe$/],
];

export const isPublicRoute = (method: string, path: string) =>
  PUBLIC_ROUTES.some(([m, pattern]) => m === method && pattern.test(path));

/** The methods a known path takes (public or operator): a wrong one is 405 with these in `Allow`. */
export const allowedMethods = (path: string): string[] => [
  ...new Set([...PUBLIC_ROUTES, ...ADMIN_ROUTES].filter(([, pattern]) => pattern.test(path)).map(([m]) => m)),
];

/** Identity headers only the gateway may set; clients' copies are stripped before proxying. */
export const RESERVED_HEADERS = [
  'x-user-id',
  'x-service-token',
  CLIENT_ADDRESS_HEADER,
  ...Object.values(OPERATOR_HEADERS),
];

async function upstreamHealthy(baseUrl: string): Promise<void> {
  const { status } = await upstreamGet(new URL('/healthz', baseUrl), 1500);
  if (status !== 200) throw new Error(`HTTP ${status}`);
}

/**
 * Public routes (prefix removed before proxying):
 *   POST /users/signup, /signin, /refresh, /signout,
 *        /password-reset, /password-reset/confirm, /verify-email → user (no token)
 *   POST /users/signout-all, /password, /verify-email/resend   → user   (token)
 *   POST /users/add                                   → user   (token)
 *   POST /users/setup-intent (card for later, SCA)    → user   (token)
 *   POST /orders/create, GET /orders/status/:orderId  → order  (token)
 *   GET /orders?limit&cursor&status (history)        → order  (token)
 *   POST /webhooks/stripe (Stripe-Signature, raw body) → payment (no token; ≤ 64 KiB)
 * Only these are forwarded (PUBLIC_ROUTES); everything else is a 404 at the gateway. The gateway answers
 * GET /openapi.json (the services' contracts, merged), GET /docs (Swagger UI), GET /console (the operator
 * console, on the operator API) and GET /demo itself.
 */
export function createGatewayApp(deps: GatewayAppDeps): Express {
  const { logger, agent, timeoutMs, maxBodyBytes } = deps;
  const budget = deps.budget ?? edgeBudget({ ...loadConfig({}), GATEWAY_TIMEOUT_MS: timeoutMs });
  const app = createServiceApp({ logger, parseJson: false, continueCallerTrace: false });
  app.use(
    clientIdentity(deps.trustedProxies ?? new BlockList()),
    concurrencyCap(budget.concurrentPerClient),
    requestDeadline(budget.requestDeadlineMs),
    securityHeaders,
    cors(deps.corsOrigins),
  );
  // Liveness only: metrics and readiness are on the admin port (createGatewayAdminApp).
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // The contract and its docs page, the console and the demo: served by the gateway itself.
  app.get(
    '/openapi.json',
    openApiRoute(
      apiSources({
        user: deps.userServiceUrl,
        order: deps.orderServiceUrl,
        payment: deps.paymentServiceUrl,
        notification: deps.notificationServiceUrl,
      }),
      logger,
    ),
  );
  app.use(docsRoutes(), consoleRoutes());
  if (deps.demo) app.use(demoRoutes(deps.demo));
  app.use((req, _res, next) => {
    if (isPublicRoute(req.method, req.path) || adminService(req.method, req.path)) return next();
    const allow = allowedMethods(req.path);
    next(
      allow.length
        ? problems.methodNotAllowed(allow)
        : problems.notFound(`No route for ${req.method} ${req.path}`),
    );
  });
  const common = {
    agent,
    timeoutMs,
    maxBodyBytes,
    budget,
    reservedHeaders: RESERVED_HEADERS,
    trustedHeaders: trustedHeaders(deps.serviceToken),
  };
  const limiter = deps.limiter ?? memoryLimiter();
  const guard = [
    authenticate(deps.jwtSecret, { limiter, perMinute: deps.invalidTokensPerMinute ?? 30 }),
    rateLimit(limiter, deps.rateLimitPerMinute),
  ];
  // Stripe signs its webhooks; the payment service checks that on the untouched body.
  app.post(
    '/webhooks/stripe',
    rateLimit(limiter, deps.webhookRateLimitPerMinute ?? 1200, (req) => `webhook:${req.clientKey}`),
    proxy({
      ...common,
      trustedHeaders: undefined,
      maxBodyBytes: 64 * 1024,
      upstream: deps.paymentServiceUrl,
    }),
  );
  app.use('/users', guard, proxy({ ...common, upstream: deps.userServiceUrl }));
  app.use('/orders', guard, proxy({ ...common, upstream: deps.orderServiceUrl }));

  // The operator API: an API key (never a customer's token), limited per client before it is checked and per
  // key after, forwarded unchanged to the service that answers the route.
  const upstreams: Record<AdminService, string> = {
    user: deps.userServiceUrl,
    order: deps.orderServiceUrl,
    payment: deps.paymentServiceUrl,
    notification: deps.notificationServiceUrl,
  };
  const operatorCommon = { ...common, trustedHeaders: operatorHeaders(deps.serviceToken) };
  const adminProxies = Object.fromEntries(
    Object.entries(upstreams).map(([name, upstream]) => [name, proxy({ ...operatorCommon, upstream })]),
  ) as Record<AdminService, ReturnType<typeof proxy>>;
  app.use(
    '/admin',
    rateLimit(limiter, deps.rateLimitPerMinute, (req) => `admin-addr:${req.clientKey}`),
    operatorAuth({
      userServiceUrl: deps.userServiceUrl,
      serviceToken: deps.serviceToken,
      cacheMs: (deps.keyCacheSeconds ?? 30) * 1000,
    }),
    rateLimit(limiter, deps.rateLimitPerMinute, (req) => `key:${req.operator!.keyId}`),
    (req, res, next) => {
      const service = adminService(req.method, req.baseUrl + req.path)!;
      // Mounted under /admin, Express stripped it; the services serve the full path.
      req.url = req.originalUrl;
      adminProxies[service](req, res, next);
    },
  );
  return finish(app, logger);
}

/** The gateway's own /metrics, /readyz and /healthz, on GATEWAY_ADMIN_PORT: for the orchestrator and Prometheus. */
export function createGatewayAdminApp(
  deps: Pick<GatewayAppDeps, 'logger' | 'userServiceUrl' | 'orderServiceUrl'>,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    healthRoutes({
      user: () => upstreamHealthy(deps.userServiceUrl),
      order: () => upstreamHealthy(deps.orderServiceUrl),
    }),
  );
  return finish(app, deps.logger);
}
