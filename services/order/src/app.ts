import { type Config } from '@paystream/common/config';
import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { orderApi } from './api';
import { adminRoutes } from './routes/admin';
import { internalRoutes } from './routes/internal';
import { orderRoutes } from './routes/orders';

export interface OrderAppDeps {
  logger: Logger;
  db: DataSource;
  kafkaAdmin: Admin;
  cfg: Config;
}

export function createOrderApp({ logger, db, kafkaAdmin, cfg }: OrderAppDeps): Express {
  const app = createServiceApp({ logger });
  app.use(
    healthRoutes({
      postgres: () => db.query('SELECT 1'),
      kafka: () => kafkaAdmin.describeCluster(),
    }),
  );
  app.get('/openapi.json', (_req, res) => res.json(orderApi));
  app.use(internalRoutes(db, cfg));
  app.use(adminRoutes(db, cfg));
  app.use(orderRoutes(db, cfg));
  return finish(app, logger);
}
