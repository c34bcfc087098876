import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import { temporalHealth } from '@paystream/common/temporal';
import type { Connection } from '@temporalio/client';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';
import type { Transporter } from 'nodemailer';

export interface NotificationAppDeps {
  logger: Logger;
  kafkaAdmin: Admin;
  temporal: Connection;
  namespace: string;
  mailer: Transporter;
}

/** The notification service has no public API: this app serves health only. */
export function createNotificationApp(deps: NotificationAppDeps): Express {
  const { logger, kafkaAdmin, temporal, namespace, mailer } = deps;
  const app = createServiceApp({ logger });
  app.use(
    healthRoutes({
      kafka: () => kafkaAdmin.describeCluster(),
      temporal: () => temporalHealth(temporal, namespace),
      smtp: () => mailer.verify(),
    }),
  );
  return finish(app, logger);
}
