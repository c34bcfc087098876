import { createServiceApp, finish, healthRoutes, temporalHealth, type Logger } from '@paystream/common';
import type { Connection } from '@temporalio/client';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';

export interface PaymentAppDeps {
  logger: Logger;
  kafkaAdmin: Admin;
  temporal: Connection;
  namespace: string;
}

/** The payment service has no public API: this app serves health only. */
export function createPaymentApp({ logger, kafkaAdmin, temporal, namespace }: PaymentAppDeps): Express {
  const app = createServiceApp({ logger });
  app.use(
    healthRoutes({
      kafka: () => kafkaAdmin.describeCluster(),
      temporal: () => temporalHealth(temporal, namespace),
    }),
  );
  return finish(app, logger);
}
