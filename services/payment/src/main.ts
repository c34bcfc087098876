import {
  closeServer,
  consumerLag,
  connectTemporal,
  createKafka,
  createLogger,
  createWorkflowClient,
  createProducer,
  createStripe,
  ensureSearchAttributes,
  listen,
  loadConfig,
  runMain,
  scrapedGauge,
  TOPICS,
  usesRealStripe,
} from '@paystream/common';
import { createPaymentApp } from './app';
import { consumeOrders, PAYMENT_CONSUMER_GROUP } from './events/order-consumer';
import { createPaymentWorker } from './worker';

const logger = createLogger('payment');

runMain('payment', logger, async () => {
  const cfg = loadConfig();
  const kafka = createKafka('payment', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const producer = createProducer(kafka);
  await producer.connect();
  const temporal = await connectTemporal(cfg.TEMPORAL_ADDRESS);
  await ensureSearchAttributes(temporal, cfg.TEMPORAL_NAMESPACE);
  const client = createWorkflowClient(temporal, cfg.TEMPORAL_NAMESPACE);

  const { worker, connection: workerConnection } = await createPaymentWorker({
    address: cfg.TEMPORAL_ADDRESS,
    namespace: cfg.TEMPORAL_NAMESPACE,
    activities: {
      userServiceUrl: cfg.USER_SERVICE_URL,
      serviceToken: cfg.SERVICE_TOKEN,
      stripe: createStripe(cfg),
      producer,
      confirmOffSession: usesRealStripe(cfg),
    },
  });
  const workerRun = worker.run();
  workerRun.catch((err: unknown) => {
    logger.fatal({ err }, 'payment worker stopped');
    process.kill(process.pid, 'SIGTERM');
  });

  scrapedGauge('kafka_consumer_lag', `order.create messages ${PAYMENT_CONSUMER_GROUP} has not consumed`, () =>
    consumerLag(kafkaAdmin, PAYMENT_CONSUMER_GROUP, TOPICS.orderCreate),
  );
  const consumer = kafka.consumer({ groupId: PAYMENT_CONSUMER_GROUP, sessionTimeout: 15_000 });
  await consumeOrders({ consumer, producer, client, logger });

  const app = createPaymentApp({ logger, kafkaAdmin, temporal, namespace: cfg.TEMPORAL_NAMESPACE });
  const server = await listen(app, cfg.PAYMENT_PORT, cfg.HOST);
  logger.info({ port: cfg.PAYMENT_PORT }, 'payment service listening');
  return async () => {
    await closeServer(server);
    await consumer.disconnect();
    worker.shutdown();
    await workerRun.catch(() => undefined);
    await workerConnection.close();
    await producer.disconnect();
    await kafkaAdmin.disconnect();
    await temporal.close();
  };
});
