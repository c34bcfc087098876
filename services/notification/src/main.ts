import { codecKeysFrom } from '@paystream/common/codec-keys';
import { databasePart } from '@paystream/common/db';
import { CONSUMER_GROUPS, TOPICS } from '@paystream/common/events';
import { consumerPart, kafkaParts, topicMessages } from '@paystream/common/kafka';
import { scrapedGauge } from '@paystream/common/metrics';
import { httpPart, runService, workerPart } from '@paystream/common/runtime';
import { createWorkflowClient, temporalParts } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { SEARCH_ATTRIBUTE_NAMES, workerMetrics, type WebhookRetry } from '@paystream/workflows';
import { notificationDataSource } from './db/data-source';
import { SecretBox, WebhookStore } from './webhooks/endpoints';
import { consumeOrderEvents } from './webhooks/order-consumer';
import { createNotificationApp } from './app';
import { createMailer } from './email/mailer';
import { consumePaymentEvents, NOTIFICATION_CONSUMER_GROUP } from './events/payment-consumer';
import { retryBudget } from './start-notification';
import { createNotificationWorker } from './worker';

runService('notification', async (svc) => {
  const { cfg, logger } = svc;
  const db = await databasePart(svc, notificationDataSource(cfg.NOTIFICATION_DATABASE_URL));
  const store = new WebhookStore(db, new SecretBox(codecKeysFrom(cfg)));
  const production = cfg.NODE_ENV === 'production';
  const webhookRetry: WebhookRetry = {
    initialIntervalMs: cfg.WEBHOOK_INITIAL_RETRY_MS,
    maximumIntervalMs: cfg.WEBHOOK_MAX_RETRY_MS,
    totalSeconds: cfg.WEBHOOK_RETRY_SECONDS,
  };
  const kafka = await kafkaParts(svc);
  scrapedGauge(
    'notification_dlq_messages',
    'Messages on notification.dlq (operators list and replay them)',
    () => topicMessages(kafka.admin, TOPICS.notificationDlq),
  );
  const temporal = await temporalParts(svc, SEARCH_ATTRIBUTE_NAMES);
  const mailer = await svc.part(
    'smtp pool',
    () => createMailer(cfg),
    (m) => m.close(),
  );
  const worker = await workerPart(svc, () =>
    createNotificationWorker({
      connection: temporalConnectionOptions(cfg),
      namespace: cfg.TEMPORAL_NAMESPACE,
      dataConverter: temporal.dataConverter,
      logger,
      metrics: workerMetrics(cfg.HOST, cfg.NOTIFICATION_WORKER_METRICS_PORT),
      activities: {
        mailer,
        from: cfg.MAIL_FROM,
        producer: kafka.producer,
        userServiceUrl: cfg.USER_SERVICE_URL,
        serviceToken: cfg.SERVICE_TOKEN,
        merchantEmail: cfg.MERCHANT_EMAIL,
      },
      webhooks: {
        store,
        production,
        timeoutMs: cfg.WEBHOOK_TIMEOUT_MS,
        disableAfterSeconds: cfg.WEBHOOK_DISABLE_AFTER_SECONDS,
      },
    }),
  );
  await consumerPart(svc, kafka, {
    groupId: NOTIFICATION_CONSUMER_GROUP,
    topic: TOPICS.paymentEvent,
    run: (consumer) =>
      consumePaymentEvents({
        consumer,
        producer: kafka.producer,
        // On the worker's own connection, as the payment service does: see its consumer of order.create.
        client: createWorkflowClient(worker.connection, cfg.TEMPORAL_NAMESPACE, temporal.dataConverter),
        eagerStart: true,
        logger,
        retry: retryBudget(cfg),
      }),
  });
  await consumerPart(svc, kafka, {
    groupId: CONSUMER_GROUPS.webhooks,
    topic: TOPICS.orderEvent,
    run: (consumer) =>
      consumeOrderEvents({
        consumer,
        producer: kafka.producer,
        client: temporal.client,
        store,
        logger,
        retry: webhookRetry,
      }),
  });
  const app = createNotificationApp({
    logger,
    kafkaAdmin: kafka.admin,
    temporal: temporal.connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    mailer,
    db,
    admin: {
      store,
      client: temporal.client,
      kafka: kafka.kafka,
      retry: retryBudget(cfg),
      webhookRetry,
      production,
      serviceToken: cfg.SERVICE_TOKEN,
      userServiceUrl: cfg.USER_SERVICE_URL,
    },
  });
  await httpPart(svc, app, cfg.NOTIFICATION_PORT);
});
