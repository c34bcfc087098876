import { CONSUMER_GROUPS, paymentEvent, TOPICS } from '@paystream/common/events';
import { parkTo, runJsonConsumer } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import type { Consumer, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { applyPaymentEvent } from '../domain/orders';
import { orderMetrics } from '../metrics';

export const ORDER_CONSUMER_GROUP = CONSUMER_GROUPS.order;

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
  const park = parkTo(deps.producer, groupId);
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.paymentEvent,
    groupId,
    schema: paymentEvent,
    logger,
    fromBeginning: deps.fromBeginning,
    onInvalid: park,
    handle: async (event, message, partition) => {
      const result = await applyPaymentEvent(db, event);
      const log = { orderId: event.orderId, eventId: event.eventId, status: event.status, result };
      if (result === 'amount-mismatch') {
        const reason = `${event.status} event of ${event.amount} ${event.currency} does not match the order's amount`;
        logger.error(log, 'payment event refused and parked: amount or currency differs from the order');
        orderMetrics.paymentEventsRefused.inc({ reason: 'amount_mismatch' });
        await park({ topic: TOPICS.paymentEvent, partition, message, reason });
      } else if (result === 'second-charge') {
        // Money moved twice; the order stays as it is (paid once is what the customer ordered) and an
        // operator refunds the second intent: alerted (PaystreamSecondCharge), never a silent already-final.
        logger.error(log, 'second charge: the order was already paid with another PaymentIntent');
        orderMetrics.secondCharges.inc();
      } else if (result === 'amount-mismatch-again')
        logger.warn(log, 'refused payment event delivered again');
      else if (result === 'unknown-order') logger.warn(log, 'payment event for an unknown order');
      else if (result === 'deferred') logger.info(log, 'payment event waits for the order to reach it');
      else if (result === 'notice') logger.debug(log, 'payment notice: nothing for the order to change');
      else logger.info(log, 'payment event processed');
    },
  });
}
