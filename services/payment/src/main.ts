import { cancelTimings } from '@paystream/common/config';
import { databasePart } from '@paystream/common/db';
import { TOPICS } from '@paystream/common/events';
import { consumerPart, kafkaParts } from '@paystream/common/kafka';
import { httpPart, runService, workerPart } from '@paystream/common/runtime';
import { createStripe } from '@paystream/common/stripe';
import { createWorkflowClient, temporalParts } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { SEARCH_ATTRIBUTE_NAMES, workerMetrics } from '@paystream/workflows';
import { createPaymentApp } from './app';
import { consumeOrders, PAYMENT_CONSUMER_GROUP } from './events/order-consumer';
import { createPaymentWorker } from './worker';
import { paymentDataSource } from './ledger/data-source';
import { Ledger } from './ledger/ledger';
import { ensureReconcileSchedules } from './reconcile-schedule';
import { paymentOptions } from './payment-options';
import { stripePort } from './stripe-port';

runService('payment', async (svc) => {
  const { cfg, logger } = svc;
  const ledger = new Ledger(await databasePart(svc, paymentDataSource(cfg.PAYMENT_DATABASE_URL)));
  const kafka = await kafkaParts(svc);
  const temporal = await temporalParts(svc, SEARCH_ATTRIBUTE_NAMES);
  const stripe = createStripe(cfg);
  const worker = await workerPart(svc, () =>
    createPaymentWorker({
      connection: temporalConnectionOptions(cfg),
      namespace: cfg.TEMPORAL_NAMESPACE,
      dataConverter: temporal.dataConverter,
      logger,
      metrics: workerMetrics(cfg.HOST, cfg.PAYMENT_WORKER_METRICS_PORT),
      activities: {
        userServiceUrl: cfg.USER_SERVICE_URL,
        serviceToken: cfg.SERVICE_TOKEN,
        stripe: stripePort(stripe),
        producer: kafka.producer,
        ledger,
        orderServiceUrl: cfg.ORDER_SERVICE_URL,
        logger,
      },
      reconcile: {
        stripe,
        ledger,
        client: temporal.client,
        producer: kafka.producer,
        orderServiceUrl: cfg.ORDER_SERVICE_URL,
        serviceToken: cfg.SERVICE_TOKEN,
        logger,
        evidenceWarningSeconds: cfg.DISPUTE_EVIDENCE_WARNING,
      },
    }),
  );
  await ensureReconcileSchedules(temporal.client, cfg, logger);
  await consumerPart(svc, kafka, {
    groupId: PAYMENT_CONSUMER_GROUP,
    topic: TOPICS.orderCreate,
    run: (consumer) =>
      consumeOrders({
        consumer,
        producer: kafka.producer,
        // On the worker's own connection: each order's first workflow task is handed to this worker in the
        // start's answer (eager start), not queued for a poll. Any other replica still takes the rest.
        client: createWorkflowClient(worker.connection, cfg.TEMPORAL_NAMESPACE, temporal.dataConverter),
        eagerStart: true,
        logger,
        paymentOptions: paymentOptions(cfg),
      }),
  });
  const afterSale = { client: temporal.client, paymentOptions: paymentOptions(cfg), ledger };
  const app = createPaymentApp({
    logger,
    kafkaAdmin: kafka.admin,
    temporal: temporal.connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    webhooks: {
      stripe,
      secret: cfg.STRIPE_WEBHOOK_SECRET,
      toleranceSeconds: cfg.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      client: temporal.client,
      producer: kafka.producer,
      evidenceWarningSeconds: cfg.DISPUTE_EVIDENCE_WARNING,
      ledger,
    },
    afterSale,
    serviceToken: cfg.SERVICE_TOKEN,
    cancelWaitMs: cancelTimings(cfg).paymentWaitMs,
    admin: { afterSale, ledger, serviceToken: cfg.SERVICE_TOKEN, userServiceUrl: cfg.USER_SERVICE_URL },
  });
  await httpPart(svc, app, cfg.PAYMENT_PORT);
});
