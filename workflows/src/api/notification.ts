/**
 * The notification workflow's contract: one email per payment.event (workflow id `notify-<eventId>`).
 * From Kafka (a redelivery) a closed id is never reused; an operator's replay of the DLQ may reuse only
 * the id of a workflow that failed (dead-lettered), so an email that was sent is never sent again.
 */
import type { PaymentEvent } from '@paystream/common/events';
import { orderSearchAttributes } from './search-attributes';

export const NOTIFICATIONS_TASK_QUEUE = 'notifications';
export const NOTIFICATION_WORKFLOW = 'notificationWorkflow';
export const notificationWorkflowId = (eventId: string): string => `notify-${eventId}`;

/** How often and how long SMTP is tried before the event goes to the DLQ (NOTIFY_* configuration). */
export interface RetryBudget {
  maximumAttempts: number;
  initialIntervalMs: number;
  maximumIntervalMs: number;
}

export interface NotificationInput {
  event: PaymentEvent;
  retry: RetryBudget;
}

export function notificationStartOptions(
  event: PaymentEvent,
  retry: RetryBudget,
  opts: { taskQueue?: string; replay?: boolean } = {},
) {
  return {
    workflowId: notificationWorkflowId(event.eventId),
    taskQueue: opts.taskQueue ?? NOTIFICATIONS_TASK_QUEUE,
    args: [{ event, retry }] as [NotificationInput],
    workflowIdReusePolicy: opts.replay
      ? ('ALLOW_DUPLICATE_FAILED_ONLY' as const)
      : ('REJECT_DUPLICATE' as const),
    typedSearchAttributes: orderSearchAttributes(event.orderId, event.userId),
  };
}
