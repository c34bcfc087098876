import { CONSUMER_GROUPS, orderCreateEvent, TOPICS } from '@paystream/common/events';
import { parkTo, runJsonConsumer } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import { metrics } from '@paystream/common/metrics';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Consumer, Producer } from 'kafkajs';
import {
  PAYMENT_WORKFLOW,
  PAYMENTS_TASK_QUEUE,
  paymentStartOptions,
  type PaymentOptions,
  type paymentWorkflow,
} from '@paystream/workflows';

export const PAYMENT_CONSUMER_GROUP = CONSUMER_GROUPS.payment;

export interface OrderConsumerDeps {
  consumer: Consumer;
  producer: Producer;
  client: Client;
  logger: Logger;
  /** The starter's settings (3-D Secure window, the authorization's policy): paymentOptions(cfg). */
  paymentOptions: PaymentOptions;
  taskQueue?: string;
  groupId?: string;
  /** `client` is on this process' worker connection: the first workflow task goes straight to that worker. */
  eagerStart?: boolean;
}

/**
 * order.create → one paymentWorkflow per order. The workflow id is derived from the order id and a
 * closed workflow id is never reused, so a redelivered or replayed message cannot start a second
 * payment; "already started" is success. The offset is committed only after Temporal acknowledged.
 */
export function consumeOrders(deps: OrderConsumerDeps): Promise<void> {
  const { client, logger, taskQueue = PAYMENTS_TASK_QUEUE, groupId = PAYMENT_CONSUMER_GROUP } = deps;
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.orderCreate,
    groupId,
    schema: orderCreateEvent,
    logger,
    onInvalid: parkTo(deps.producer, groupId),
    handle: async (order) => {
      const options = paymentStartOptions(order, deps.paymentOptions, taskQueue);
      const { workflowId } = options;
      try {
        const handle = await client.workflow.start<typeof paymentWorkflow>(PAYMENT_WORKFLOW, {
          ...options,
          requestEagerStart: deps.eagerStart,
        });
        metrics.workflowStarts.inc({ workflow: PAYMENT_WORKFLOW, result: 'started' });
        if (handle.eagerlyStarted) metrics.workflowEagerStarts.inc({ workflow: PAYMENT_WORKFLOW });
        logger.info({ orderId: order.orderId, workflowId }, 'payment workflow started');
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        metrics.workflowStarts.inc({ workflow: PAYMENT_WORKFLOW, result: 'duplicate' });
        logger.info(
          { orderId: order.orderId, workflowId },
          'payment workflow already started; redelivery ignored',
        );
      }
    },
  });
}
