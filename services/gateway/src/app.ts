import type http from 'node:http';
import { createServiceApp, finish, healthRoutes, problems, type Logger } from '@paystream/common';
import type { Express } from 'express';
import { proxy } from './proxy';

export interface GatewayAppDeps {
  logger: Logger;
  userServiceUrl: string;
  orderServiceUrl: string;
  agent: http.Agent;
  timeoutMs?: number;
  maxBodyBytes?: number;
}

/** Identity headers only the gateway may set; clients' copies are stripped before proxying. */
export const RESERVED_HEADERS = ['x-user-id', 'x-service-token'];

async function upstreamHealthy(baseUrl: string): Promise<void> {
  const res = await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(1500) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

/**
 * Public routes: /users/* → user service, /orders/* → order service (prefix removed).
 * The user service's internal GET /get/:userId is never reachable from outside.
 */
export function createGatewayApp(deps: GatewayAppDeps): Express {
  const { logger, agent, timeoutMs = 10_000, maxBodyBytes = 64 * 1024 } = deps;
  const app = createServiceApp({ logger, parseJson: false });
  app.use(
    healthRoutes({
      user: () => upstreamHealthy(deps.userServiceUrl),
      order: () => upstreamHealthy(deps.orderServiceUrl),
    }),
  );
  const common = { agent, timeoutMs, maxBodyBytes, reservedHeaders: RESERVED_HEADERS };
  app.use('/users/get', (req, _res, next) =>
    next(problems.notFound(`No route for ${req.method} ${req.originalUrl}`)),
  );
  app.use('/users', proxy({ ...common, upstream: deps.userServiceUrl }));
  app.use('/orders', proxy({ ...common, upstream: deps.orderServiceUrl }));
  return finish(app, logger);
}
