/**
 * The webhook delivery workflow's contract: one workflow per (merchant endpoint, order), which delivers that
 * order's events to that endpoint one after another, in the order they happened, each retried with backoff for
 * about three days (Stripe's habit) before the next one goes. Started or fed by the notification service's
 * order.event consumer and by an operator's redelivery, with signal-with-start.
 */
import { defineSignal } from '@temporalio/workflow';
import { NOTIFICATIONS_TASK_QUEUE } from './notification';
import { orderSearchAttributes } from './search-attributes';

export const WEBHOOK_WORKFLOW = 'webhookDeliveryWorkflow';
export const webhookWorkflowId = (endpointId: string, orderId: string): string =>
  `webhooks-${endpointId}-${orderId}`;

/** How each delivery is retried (WEBHOOK_* configuration). */
export interface WebhookRetry {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** How long a delivery is tried in all before it is given up as `failed`. */
  totalSeconds: number;
}

export interface WebhookInput {
  endpointId: string;
  orderId: string;
  retry: WebhookRetry;
  /** Deliveries carried over from the previous run (continue-as-new). */
  pending?: string[];
  /** How long the workflow waits for the order's next event before it completes; 10 min when absent. */
  idleSeconds?: number;
}

/** A delivery (its id in the delivery log) to send after the ones already waiting. */
export const webhookDeliverySignal = defineSignal<[{ deliveryId: string }]>('delivery');

export function webhookStartOptions(input: WebhookInput, taskQueue = NOTIFICATIONS_TASK_QUEUE) {
  return {
    workflowId: webhookWorkflowId(input.endpointId, input.orderId),
    taskQueue,
    args: [input] as [WebhookInput],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    typedSearchAttributes: orderSearchAttributes(input.orderId),
  };
}
