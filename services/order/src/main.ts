import { databasePart } from '@paystream/common/db';
import { TOPICS } from '@paystream/common/events';
import { consumerPart, kafkaParts, topicMessages } from '@paystream/common/kafka';
import { scrapedGauge } from '@paystream/common/metrics';
import { httpPart, runService } from '@paystream/common/runtime';
import { createOrderApp } from './app';
import { orderDataSource } from './db/data-source';
import { OutboxRelay } from './events/outbox-relay';
import { consumePaymentEvents, ORDER_CONSUMER_GROUP } from './events/payment-consumer';

runService('order', async (svc) => {
  const { cfg, logger } = svc;
  const db = await databasePart(svc, orderDataSource(cfg.ORDER_DATABASE_URL));
  const kafka = await kafkaParts(svc);
  // Every service parks what it cannot read; the order service, which parks the most, reports the topic's size.
  scrapedGauge('parked_messages', `Messages on ${TOPICS.parked} (malformed or refused events)`, () =>
    topicMessages(kafka.admin, TOPICS.parked),
  );
  scrapedGauge('outbox_backlog', 'Outbox rows not yet published to Kafka', async () => {
    const [row] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
    );
    return row?.n ?? 0;
  });
  await svc.part(
    'outbox relay',
    async () => {
      const relay = new OutboxRelay(db, kafka.producer, logger, { databaseUrl: cfg.ORDER_DATABASE_URL });
      await relay.start();
      return relay;
    },
    (relay) => relay.stop(),
  );
  await consumerPart(svc, kafka, {
    groupId: ORDER_CONSUMER_GROUP,
    topic: TOPICS.paymentEvent,
    run: (consumer) => consumePaymentEvents({ consumer, producer: kafka.producer, db, logger }),
  });
  await httpPart(svc, createOrderApp({ logger, db, kafkaAdmin: kafka.admin, cfg }), cfg.ORDER_PORT);
});
