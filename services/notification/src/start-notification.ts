import { metrics, paymentEvent, TASK_QUEUES, type Config, type PaymentEvent } from '@paystream/common';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { type notificationWorkflow, ORDER_ID, type RetryBudget, USER_ID } from '@paystream/workflows';

export const notificationWorkflowId = (eventId: string) => `notify-${eventId}`;

export function retryBudget(cfg: Config): RetryBudget {
  return {
    maximumAttempts: cfg.NOTIFY_MAX_ATTEMPTS,
    initialIntervalMs: cfg.NOTIFY_INITIAL_INTERVAL_MS,
    maximumIntervalMs: cfg.NOTIFY_MAX_INTERVAL_MS,
  };
}

/**
 * Starts the notification for one payment.event; returns false when that event's workflow already ran
 * or runs. From Kafka (redelivery) a closed id is never reused; an operator's replay may reuse the id
 * only of a workflow that failed (dead-lettered), so an email that was sent is never sent again.
 */
export async function startNotification(
  client: Client,
  event: PaymentEvent,
  retry: RetryBudget,
  opts: { taskQueue?: string; replay?: boolean } = {},
): Promise<boolean> {
  const valid = paymentEvent.parse(event);
  try {
    await client.workflow.start<typeof notificationWorkflow>('notificationWorkflow', {
      workflowId: notificationWorkflowId(valid.eventId),
      taskQueue: opts.taskQueue ?? TASK_QUEUES.notifications,
      args: [{ event: valid, retry }],
      workflowIdReusePolicy: opts.replay
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [
        { key: ORDER_ID, value: valid.orderId },
        { key: USER_ID, value: valid.userId },
      ],
    });
    metrics.workflowStarts.inc({ workflow: 'notificationWorkflow', result: 'started' });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      metrics.workflowStarts.inc({ workflow: 'notificationWorkflow', result: 'duplicate' });
      return false;
    }
    throw err;
  }
}
