import {
  closeServer,
  consumerLag,
  connectTemporal,
  createKafka,
  createLogger,
  createWorkflowClient,
  createProducer,
  ensureSearchAttributes,
  listen,
  loadConfig,
  runMain,
  scrapedGauge,
  TOPICS,
} from '@paystream/common';
import { createNotificationApp } from './app';
import { consumePaymentEvents, NOTIFICATION_CONSUMER_GROUP } from './events/payment-consumer';
import { createMailer } from './mailer';
import { createNotificationWorker } from './worker';
import { retryBudget } from './workflows';

const logger = createLogger('notification');

runMain('notification', logger, async () => {
  const cfg = loadConfig();
  const kafka = createKafka('notification', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const producer = createProducer(kafka);
  await producer.connect();
  const temporal = await connectTemporal(cfg.TEMPORAL_ADDRESS);
  await ensureSearchAttributes(temporal, cfg.TEMPORAL_NAMESPACE);
  const client = createWorkflowClient(temporal, cfg.TEMPORAL_NAMESPACE);
  const mailer = createMailer(cfg);

  const { worker, connection: workerConnection } = await createNotificationWorker({
    address: cfg.TEMPORAL_ADDRESS,
    namespace: cfg.TEMPORAL_NAMESPACE,
    activities: {
      mailer,
      from: cfg.MAIL_FROM,
      producer,
      userServiceUrl: cfg.USER_SERVICE_URL,
      serviceToken: cfg.SERVICE_TOKEN,
    },
  });
  const workerRun = worker.run();
  workerRun.catch((err: unknown) => {
    logger.fatal({ err }, 'notification worker stopped');
    process.kill(process.pid, 'SIGTERM');
  });

  scrapedGauge(
    'kafka_consumer_lag',
    `payment.event messages ${NOTIFICATION_CONSUMER_GROUP} has not consumed`,
    () => consumerLag(kafkaAdmin, NOTIFICATION_CONSUMER_GROUP, TOPICS.paymentEvent),
  );
  const consumer = kafka.consumer({ groupId: NOTIFICATION_CONSUMER_GROUP, sessionTimeout: 15_000 });
  await consumePaymentEvents({ consumer, producer, client, logger, retry: retryBudget(cfg) });

  const app = createNotificationApp({
    logger,
    kafkaAdmin,
    temporal,
    namespace: cfg.TEMPORAL_NAMESPACE,
    mailer,
  });
  const server = await listen(app, cfg.NOTIFICATION_PORT, cfg.HOST);
  logger.info({ port: cfg.NOTIFICATION_PORT }, 'notification service listening');
  return async () => {
    await closeServer(server);
    await consumer.disconnect();
    worker.shutdown();
    await workerRun.catch(() => undefined);
    await workerConnection.close();
    mailer.close();
    await producer.disconnect();
    await kafkaAdmin.disconnect();
    await temporal.close();
  };
});
