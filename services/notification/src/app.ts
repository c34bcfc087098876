import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import { temporalHealth } from '@paystream/common/temporal';
import type { Connection } from '@temporalio/client';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';
import type { Transporter } from 'nodemailer';
import type { DataSource } from 'typeorm';
import { adminRoutes, type AdminDeps } from './admin';
import { notificationApi } from './api';
import { accountEmailRoutes } from './account-emails';

export interface NotificationAppDeps {
  logger: Logger;
  kafkaAdmin: Admin;
  temporal: Connection;
  namespace: string;
  mailer: Transporter;
  db: DataSource;
  admin: AdminDeps;
}

/** Health, and the operator API's DLQ and webhook routes (through the gateway, with an API key). */
export function createNotificationApp(deps: NotificationAppDeps): Express {
  const { logger, kafkaAdmin, temporal, namespace, mailer, db } = deps;
  const app = createServiceApp({ logger });
  app.use(
    healthRoutes({
      postgres: () => db.query('SELECT 1'),
      kafka: () => kafkaAdmin.describeCluster(),
      temporal: () => temporalHealth(temporal, namespace),
      smtp: () => mailer.verify(),
    }),
  );
  app.get('/openapi.json', (_req, res) => res.json(notificationApi));
  app.use(adminRoutes(deps.admin));
  app.use(
    accountEmailRoutes({
      client: deps.admin.client,
      retry: deps.admin.retry,
      serviceToken: deps.admin.serviceToken,
      taskQueue: deps.admin.taskQueue,
    }),
  );
  return finish(app, logger);
}
