import { createLogger, createStripe, initDataSource } from '@paystream/common';
import type { DataSource } from 'typeorm';
import { createGatewayApp } from '../../gateway/src/app';
import { createAgent } from '../../gateway/src/proxy';
import { createUserApp } from '../src/app';
import { userDataSource } from '../src/db/data-source';
import { cfg, serve, type RunningApp } from '../../../test/support';

export interface UserBehindGateway {
  db: DataSource;
  user: RunningApp;
  gateway: RunningApp;
  close: () => Promise<void>;
}

/**
 * The user service on the real Postgres and localstripe, behind the real gateway, both over HTTP.
 * The per-address sign-in limit and the gateway's rate limit are lifted: tests send hundreds of requests
 * from one address, and the limits have tests of their own.
 */
export async function startUserBehindGateway(name: string): Promise<UserBehindGateway> {
  const logger = createLogger(name, 'silent');
  const agent = createAgent();
  const db = await initDataSource(userDataSource(cfg.USER_DATABASE_URL));
  const user = await serve(
    createUserApp({
      logger,
      db,
      cfg,
      stripe: createStripe(cfg),
      throttleLimits: { perEmail: 5, perAddress: 1_000_000, windowSeconds: 900 },
    }),
  );
  const gateway = await serve(
    createGatewayApp({
      logger,
      agent,
      userServiceUrl: user.url,
      orderServiceUrl: 'http://127.0.0.1:1',
      jwtSecret: cfg.JWT_SECRET,
      serviceToken: cfg.SERVICE_TOKEN,
      rateLimitPerMinute: 1_000_000,
      corsOrigins: [],
      timeoutMs: 10_000,
      maxBodyBytes: 64 * 1024,
    }),
  );
  return {
    db,
    user,
    gateway,
    close: async () => {
      await gateway.close();
      await user.close();
      agent.destroy();
      await db.destroy();
    },
  };
}
