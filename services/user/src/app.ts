import { type Config } from '@paystream/common/config';
import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import { type Stripe } from '@paystream/common/stripe';
import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import { DEFAULT_LIMITS, AttemptThrottle, type ThrottleLimits } from './domain/attempt-throttle';
import { userApi } from './api';
import { accountRoutes } from './routes/accounts';
import { paymentDetailRoutes } from './routes/payment-details';
import { setupIntentRoutes } from './routes/setup-intent';
import { operatorRoutes } from './routes/operators';
import { Operators } from './domain/operators';
import { AccountLinks } from './domain/account-links';
import { DeviceTokens, Sessions } from './domain/sessions';

export interface UserAppDeps {
  logger: Logger;
  db: DataSource;
  cfg: Config;
  stripe: Stripe;
  throttleLimits?: ThrottleLimits;
}

export function createUserApp({ logger, db, cfg, stripe, throttleLimits }: UserAppDeps): Express {
  const app = createServiceApp({ logger });
  app.use(healthRoutes({ postgres: () => db.query('SELECT 1') }));
  const limits = throttleLimits ?? {
    ...DEFAULT_LIMITS,
    signupsPerClient: cfg.SIGNUPS_PER_CLIENT,
    perClient: cfg.SIGNINS_PER_CLIENT,
    cardsPerClient: cfg.CARDS_PER_CLIENT,
    setupIntentsPerClient: cfg.SETUP_INTENTS_PER_CLIENT,
    resetsPerClient: cfg.PASSWORD_RESETS_PER_CLIENT,
  };
  const throttle = new AttemptThrottle(db, limits);
  const sessions = new Sessions(db, cfg.JWT_SECRET, {
    accessSeconds: cfg.ACCESS_TOKEN_SECONDS,
    refreshDays: cfg.REFRESH_TOKEN_DAYS,
  });
  const links = new AccountLinks(db, {
    notificationServiceUrl: cfg.NOTIFICATION_SERVICE_URL,
    serviceToken: cfg.SERVICE_TOKEN,
    linkUrl: cfg.ACCOUNT_LINK_URL,
    logger,
  });
  app.get('/openapi.json', (_req, res) => res.json(userApi));
  app.use(accountRoutes({ db, cfg, throttle, sessions, devices: new DeviceTokens(cfg.JWT_SECRET), links }));
  app.use(paymentDetailRoutes(db, cfg, stripe, throttle));
  app.use(setupIntentRoutes(db, cfg, stripe, throttle));
  app.use(operatorRoutes(new Operators(db), cfg));
  return finish(app, logger);
}
