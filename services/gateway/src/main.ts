import { closeServer, createLogger, listen, loadConfig, runMain } from '@paystream/common';
import { createGatewayApp } from './app';
import { createAgent } from './proxy';

const logger = createLogger('gateway');

runMain('gateway', logger, async () => {
  const cfg = loadConfig();
  const agent = createAgent();
  const app = createGatewayApp({
    logger,
    agent,
    userServiceUrl: cfg.USER_SERVICE_URL,
    orderServiceUrl: cfg.ORDER_SERVICE_URL,
    jwtSecret: cfg.JWT_SECRET,
    serviceToken: cfg.SERVICE_TOKEN,
    rateLimitPerMinute: cfg.GATEWAY_RATE_LIMIT,
    corsOrigins: cfg.CORS_ORIGINS,
    timeoutMs: cfg.GATEWAY_TIMEOUT_MS,
    maxBodyBytes: cfg.GATEWAY_MAX_BODY_BYTES,
  });
  const server = await listen(app, cfg.GATEWAY_PORT, cfg.HOST);
  logger.info({ port: cfg.GATEWAY_PORT }, 'gateway listening');
  return async () => {
    await closeServer(server);
    agent.destroy();
  };
});
