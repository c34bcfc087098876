import { CONSUMER_GROUPS, paymentEvent, TOPICS, type NotificationDlqEntry } from '@paystream/common/events';
import { publishJson, runJsonConsumer } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import type { Client } from '@temporalio/client';
import type { Consumer, Producer } from 'kafkajs';
import type { RetryBudget } from '@paystream/workflows';
import { startNotification } from '../start-notification';
import { notificationMetrics } from '../metrics';

export const NOTIFICATION_CONSUMER_GROUP = CONSUMER_GROUPS.notification;

/**
 * payment.event → one notification workflow per event id (a replayed outcome, none). A message that is not a valid
 * payment.event goes straight to the DLQ with the validation error (attempts 0) and is committed.
 */
export function consumePaymentEvents(deps: {
  consumer: Consumer;
  producer: Producer;
  client: Client;
  logger: Logger;
  retry: RetryBudget;
  taskQueue?: string;
  groupId?: string;
  fromBeginning?: boolean;
  /** `client` is on this process' worker connection: the first workflow task goes straight to that worker. */
  eagerStart?: boolean;
}): Promise<void> {
  const { client, logger, producer, groupId = NOTIFICATION_CONSUMER_GROUP } = deps;
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.paymentEvent,
    groupId,
    schema: paymentEvent,
    logger,
    fromBeginning: deps.fromBeginning,
    onInvalid: async ({ message, reason }) => {
      const entry: NotificationDlqEntry = {
        original: message.value?.toString('utf8') ?? null,
        error: `validation: ${reason}`,
        attempts: 0,
        failedAt: new Date().toISOString(),
      };
      await publishJson(producer, TOPICS.notificationDlq, message.key?.toString('utf8') ?? 'invalid', entry);
      notificationMetrics.dlqEntries.inc({ reason: 'invalid' });
    },
    handle: async (event) => {
      // The customer was told when the outcome was first published; a replay of it sends nothing.
      if (event.replayed) {
        logger.info({ orderId: event.orderId, eventId: event.eventId }, 'replayed outcome: no email');
        return;
      }
      const started = await startNotification(client, event, deps.retry, {
        taskQueue: deps.taskQueue,
        eagerStart: deps.eagerStart,
      });
      logger.info({ orderId: event.orderId, eventId: event.eventId, started }, 'notification scheduled');
    },
  });
}
