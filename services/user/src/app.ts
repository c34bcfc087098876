import { createServiceApp, finish, healthRoutes, type Logger } from '@paystream/common';
import type { Express } from 'express';
import type { DataSource } from 'typeorm';

export interface UserAppDeps {
  logger: Logger;
  db: DataSource;
}

export function createUserApp({ logger, db }: UserAppDeps): Express {
  const app = createServiceApp({ logger });
  app.use(healthRoutes({ postgres: () => db.query('SELECT 1') }));
  return finish(app, logger);
}
