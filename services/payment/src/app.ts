import { createServiceApp, finish, healthRoutes } from '@paystream/common/http';
import { type Logger } from '@paystream/common/logger';
import { temporalHealth } from '@paystream/common/temporal';
import type { Connection } from '@temporalio/client';
import type { AfterSaleDeps } from './after-sale';
import { paymentApi } from './api';
import { adminRoutes, type AdminDeps } from './admin';
import { cancelRoutes } from './cancel-route';
import { stripeWebhookRoutes, type WebhookDeps } from './webhooks';
import type { Express } from 'express';
import type { Admin } from 'kafkajs';

export interface PaymentAppDeps {
  logger: Logger;
  kafkaAdmin: Admin;
  temporal: Connection;
  namespace: string;
  webhooks: WebhookDeps;
  afterSale: AfterSaleDeps;
  serviceToken: string;
  /** How long a customer's cancel waits for its outcome (cancelTimings). */
  cancelWaitMs: number;
  /** The operator API's money routes (through the gateway, with an API key). */
  admin: AdminDeps;
}

/**
 * Health; Stripe's webhooks (reached only through the gateway's public POST /webhooks/stripe); the
 * order service's cancel (service token).
 */
export function createPaymentApp({
  logger,
  kafkaAdmin,
  temporal,
  namespace,
  webhooks,
  afterSale,
  serviceToken,
  cancelWaitMs,
  admin,
}: PaymentAppDeps): Express {
  // No JSON parser for the whole app: a webhook's signature is checked on the raw bytes.
  const app = createServiceApp({ logger, parseJson: false });
  app.use(
    healthRoutes({
      kafka: () => kafkaAdmin.describeCluster(),
      temporal: () => temporalHealth(temporal, namespace),
    }),
  );
  app.get('/openapi.json', (_req, res) => res.json(paymentApi));
  app.use(stripeWebhookRoutes(webhooks));
  app.use(cancelRoutes({ ...afterSale, serviceToken, waitMs: cancelWaitMs }));
  app.use(adminRoutes(admin));
  return finish(app, logger);
}
