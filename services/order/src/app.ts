import { createServiceApp, finish, healthRoutes, type Logger } from '@paystream/common';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';
import type { DataSource } from 'typeorm';

export interface OrderAppDeps {
  logger: Logger;
  db: DataSource;
  kafkaAdmin: Admin;
}

export function createOrderApp({ logger, db, kafkaAdmin }: OrderAppDeps): Express {
  const app = createServiceApp({ logger });
  app.use(
    healthRoutes({
      postgres: () => db.query('SELECT 1'),
      kafka: () => kafkaAdmin.describeCluster(),
    }),
  );
  return finish(app, logger);
}
