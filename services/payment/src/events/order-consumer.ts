import {
  CONSUMER_GROUPS,
  metrics,
  orderCreateEvent,
  parkTo,
  runJsonConsumer,
  TASK_QUEUES,
  TOPICS,
  type Logger,
} from '@paystream/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Consumer, Producer } from 'kafkajs';
import type { paymentWorkflow } from '@paystream/workflows';
import { ORDER_ID, paymentWorkflowId, USER_ID } from '@paystream/workflows';

export const PAYMENT_CONSUMER_GROUP = CONSUMER_GROUPS.payment;

export interface OrderConsumerDeps {
  consumer: Consumer;
  producer: Producer;
  client: Client;
  logger: Logger;
  /** PAYMENT_AUTH_TIMEOUT: how long a customer has to complete 3-D Secure. */
  authTimeoutSeconds: number;
  taskQueue?: string;
  groupId?: string;
}

/**
 * order.create → one paymentWorkflow per order. The workflow id is derived from the order id and a
 * closed workflow id is never reused, so a redelivered or replayed message cannot start a second
 * payment; "already started" is success. The offset is committed only after Temporal acknowledged.
 */
export function consumeOrders(deps: OrderConsumerDeps): Promise<void> {
  const { client, logger, taskQueue = TASK_QUEUES.payments, groupId = PAYMENT_CONSUMER_GROUP } = deps;
  return runJsonConsumer({
    consumer: deps.consumer,
    topic: TOPICS.orderCreate,
    groupId,
    schema: orderCreateEvent,
    logger,
    onInvalid: parkTo(deps.producer, groupId),
    handle: async (order) => {
      const workflowId = paymentWorkflowId(order.orderId);
      try {
        await client.workflow.start<typeof paymentWorkflow>('paymentWorkflow', {
          workflowId,
          taskQueue,
          args: [order, { authTimeoutSeconds: deps.authTimeoutSeconds }],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: ORDER_ID, value: order.orderId },
            { key: USER_ID, value: order.userId },
          ],
          memo: { amount: order.amount, currency: order.currency },
        });
        metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'started' });
        logger.info({ orderId: order.orderId, workflowId }, 'payment workflow started');
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'duplicate' });
        logger.info(
          { orderId: order.orderId, workflowId },
          'payment workflow already started; redelivery ignored',
        );
      }
    },
  });
}
