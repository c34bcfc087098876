import { createServiceApp, finish, healthRoutes, temporalHealth, type Logger } from '@paystream/common';
import type { Connection } from '@temporalio/client';
import { stripeWebhookRoutes, type WebhookDeps } from './webhooks';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';

export interface PaymentAppDeps {
  logger: Logger;
  kafkaAdmin: Admin;
  temporal: Connection;
  namespace: string;
  webhooks: WebhookDeps;
}

/** Health, and Stripe's webhooks (reached only through the gateway's public POST /webhooks/stripe). */
export function createPaymentApp({
  logger,
  kafkaAdmin,
  temporal,
  namespace,
  webhooks,
}: PaymentAppDeps): Express {
  // No JSON parser: a webhook's signature is checked on the raw bytes.
  const app = createServiceApp({ logger, parseJson: false });
  app.use(
    healthRoutes({
      kafka: () => kafkaAdmin.describeCluster(),
      temporal: () => temporalHealth(temporal, namespace),
    }),
  );
  app.use(stripeWebhookRoutes(webhooks));
  return finish(app, logger);
}
