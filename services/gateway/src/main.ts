import { stripeJsUrl } from '@paystream/common/config';
import { httpPart, runService } from '@paystream/common/runtime';
import { createGatewayAdminApp, createGatewayApp } from './app';
import { edgeBudget, serverOptions } from './slow-clients';
import { createAgent } from './proxy';
import { memoryLimiter, redisLimiter } from './limits';
import { trustedProxies } from '@paystream/common/client-address';

runService('gateway', async (svc) => {
  const { cfg, logger } = svc;
  const agent = await svc.part('upstream pool', createAgent, (a) => a.destroy());
  const limiter = await svc.part(
    cfg.RATE_LIMIT_REDIS_URL ? 'rate-limit store' : 'rate-limit buckets',
    () =>
      cfg.RATE_LIMIT_REDIS_URL
        ? redisLimiter(cfg.RATE_LIMIT_REDIS_URL, logger)
        : Promise.resolve(memoryLimiter()),
    (l) => l.close(),
  );
  const budget = edgeBudget(cfg);
  await httpPart(
    svc,
    createGatewayAdminApp({
      logger,
      userServiceUrl: cfg.USER_SERVICE_URL,
      orderServiceUrl: cfg.ORDER_SERVICE_URL,
    }),
    cfg.GATEWAY_ADMIN_PORT,
    { name: 'admin http' },
  );
  const app = createGatewayApp({
    logger,
    agent,
    userServiceUrl: cfg.USER_SERVICE_URL,
    orderServiceUrl: cfg.ORDER_SERVICE_URL,
    paymentServiceUrl: cfg.PAYMENT_SERVICE_URL,
    notificationServiceUrl: cfg.NOTIFICATION_SERVICE_URL,
    keyCacheSeconds: cfg.GATEWAY_KEY_CACHE_SECONDS,
    jwtSecret: cfg.JWT_SECRET,
    serviceToken: cfg.SERVICE_TOKEN,
    rateLimitPerMinute: cfg.GATEWAY_RATE_LIMIT,
    invalidTokensPerMinute: cfg.GATEWAY_INVALID_TOKENS_PER_MINUTE,
    webhookRateLimitPerMinute: cfg.GATEWAY_WEBHOOK_RATE_LIMIT,
    limiter,
    trustedProxies: trustedProxies(cfg.TRUSTED_PROXIES),
    corsOrigins: cfg.CORS_ORIGINS,
    timeoutMs: cfg.GATEWAY_TIMEOUT_MS,
    maxBodyBytes: cfg.GATEWAY_MAX_BODY_BYTES,
    budget,
    demo:
      cfg.NODE_ENV === 'production'
        ? undefined
        : { publishableKey: cfg.STRIPE_PUBLISHABLE_KEY, stripeJsUrl: stripeJsUrl(cfg) },
  });
  await httpPart(svc, app, cfg.GATEWAY_PORT, { server: serverOptions(budget) });
});
