import { CONSUMER_GROUPS, orderEvent, TOPICS } from '@paystream/common/events';
import { parkTo, runJsonConsumer } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import type { Client } from '@temporalio/client';
import type { Consumer, Producer } from 'kafkajs';
import {
  WEBHOOK_WORKFLOW,
  webhookDeliverySignal,
  webhookStartOptions,
  type webhookDeliveryWorkflow,
  type WebhookRetry,
} from '@paystream/workflows';
import type { WebhookStore } from './endpoints';

/**
 * order.event → the merchant endpoints that want its type: one delivery each (made once: a redelivered event
 * finds it), handed to that endpoint's workflow for the order, which sends the order's events in order. One
 * order's events arrive here in order (key = order id), so they are signalled in order.
 */
export function consumeOrderEvents(deps: {
  consumer: Consumer;
  producer: Producer;
  client: Client;
  store: WebhookStore;
  logger: Logger;
  retry: WebhookRetry;
  taskQueue?: string;
  groupId?: string;
}): Promise<void> {
  const { store, client, logger, groupId = CONSUMER_GROUPS.webhooks } = deps;
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.orderEvent,
    groupId,
    schema: orderEvent,
    logger,
    onInvalid: parkTo(deps.producer, groupId),
    handle: async (event) => {
      for (const endpoint of await store.subscribers(event.type)) {
        const deliveryId = await store.enqueue(endpoint.id, event);
        await client.workflow.signalWithStart<typeof webhookDeliveryWorkflow, [{ deliveryId: string }]>(
          WEBHOOK_WORKFLOW,
          {
            ...webhookStartOptions(
              { endpointId: endpoint.id, orderId: event.orderId, retry: deps.retry },
              deps.taskQueue,
            ),
            signal: webhookDeliverySignal,
            signalArgs: [{ deliveryId }],
          },
        );
        logger.info(
          { orderId: event.orderId, endpointId: endpoint.id, type: event.type },
          'webhook delivery queued',
        );
      }
    },
  });
}
