import {
  closeServer,
  consumerLag,
  createKafka,
  createLogger,
  createProducer,
  initDataSource,
  listen,
  loadConfig,
  runMain,
  scrapedGauge,
  TOPICS,
} from '@paystream/common';
import { createOrderApp } from './app';
import { orderDataSource } from './db/data-source';
import { OutboxRelay } from './events/outbox-relay';
import { consumePaymentEvents, ORDER_CONSUMER_GROUP } from './events/payment-consumer';

const logger = createLogger('order');

runMain('order', logger, async () => {
  const cfg = loadConfig();
  const db = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  const kafka = createKafka('order', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const producer = createProducer(kafka);
  await producer.connect();

  scrapedGauge('outbox_backlog', 'Outbox rows not yet published to Kafka', async () => {
    const [row] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
    );
    return row?.n ?? 0;
  });
  scrapedGauge('kafka_consumer_lag', `payment.event messages ${ORDER_CONSUMER_GROUP} has not consumed`, () =>
    consumerLag(kafkaAdmin, ORDER_CONSUMER_GROUP, TOPICS.paymentEvent),
  );
  const relay = new OutboxRelay(db, producer, logger, { databaseUrl: cfg.ORDER_DATABASE_URL });
  await relay.start();
  const consumer = kafka.consumer({ groupId: ORDER_CONSUMER_GROUP, sessionTimeout: 15_000 });
  await consumePaymentEvents({ consumer, producer, db, logger });

  const server = await listen(createOrderApp({ logger, db, kafkaAdmin, cfg }), cfg.ORDER_PORT, cfg.HOST);
  logger.info({ port: cfg.ORDER_PORT }, 'order service listening');
  return async () => {
    await closeServer(server);
    await consumer.disconnect();
    await relay.stop();
    await producer.disconnect();
    await kafkaAdmin.disconnect();
    await db.destroy();
  };
});
