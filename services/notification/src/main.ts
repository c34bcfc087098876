import { TOPICS } from '@paystream/common/events';
import { consumerPart, kafkaParts, topicMessages } from '@paystream/common/kafka';
import { scrapedGauge } from '@paystream/common/metrics';
import { httpPart, runService, workerPart } from '@paystream/common/runtime';
import { temporalParts } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { SEARCH_ATTRIBUTE_NAMES } from '@paystream/workflows';
import { createNotificationApp } from './app';
import { createMailer } from './email/mailer';
import { consumePaymentEvents, NOTIFICATION_CONSUMER_GROUP } from './events/payment-consumer';
import { retryBudget } from './start-notification';
import { createNotificationWorker } from './worker';

runService('notification', async (svc) => {
  const { cfg, logger } = svc;
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
  await workerPart(svc, () =>
    createNotificationWorker({
      connection: temporalConnectionOptions(cfg),
      namespace: cfg.TEMPORAL_NAMESPACE,
      dataConverter: temporal.dataConverter,
      logger,
      activities: {
        mailer,
        from: cfg.MAIL_FROM,
        producer: kafka.producer,
        userServiceUrl: cfg.USER_SERVICE_URL,
        serviceToken: cfg.SERVICE_TOKEN,
        merchantEmail: cfg.MERCHANT_EMAIL,
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
        client: temporal.client,
        logger,
        retry: retryBudget(cfg),
      }),
  });
  const app = createNotificationApp({
    logger,
    kafkaAdmin: kafka.admin,
    temporal: temporal.connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    mailer,
  });
  await httpPart(svc, app, cfg.NOTIFICATION_PORT);
});
