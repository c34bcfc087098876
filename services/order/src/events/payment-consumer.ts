import { parkTo, paymentEvent, runJsonConsumer, TOPICS, type Logger } from '@paystream/common';
import type { Consumer, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { applyPaymentEvent } from '../domain/orders';

export const ORDER_CONSUMER_GROUP = 'order-service';

/** payment.event → order status, exactly once per event id (see applyPaymentEvent). */
export function consumePaymentEvents(deps: {
  consumer: Consumer;
  producer: Producer;
  db: DataSource;
  logger: Logger;
  groupId?: string;
  fromBeginning?: boolean;
}): Promise<void> {
  const { db, logger, groupId = ORDER_CONSUMER_GROUP } = deps;
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.paymentEvent,
    groupId,
    schema: paymentEvent,
    logger,
    fromBeginning: deps.fromBeginning,
    onInvalid: parkTo(deps.producer, groupId),
    handle: async (event) => {
      const result = await applyPaymentEvent(db, event);
      const log = { orderId: event.orderId, eventId: event.eventId, status: event.status, result };
      if (result === 'unknown-order') logger.warn(log, 'payment event for an unknown order');
      else logger.info(log, 'payment event processed');
    },
  });
}
