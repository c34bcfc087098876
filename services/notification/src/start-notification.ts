import { type Config } from '@paystream/common/config';
import { paymentEvent, type PaymentEvent } from '@paystream/common/events';
import { metrics } from '@paystream/common/metrics';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  NOTIFICATION_WORKFLOW,
  notificationStartOptions,
  type notificationWorkflow,
  type RetryBudget,
} from '@paystream/workflows';

export function retryBudget(cfg: Config): RetryBudget {
  return {
    maximumAttempts: cfg.NOTIFY_MAX_ATTEMPTS,
    initialIntervalMs: cfg.NOTIFY_INITIAL_INTERVAL_MS,
    maximumIntervalMs: cfg.NOTIFY_MAX_INTERVAL_MS,
  };
}

/**
 * Starts the notification for one payment.event; returns false when that event's workflow already ran
 * or runs (see notificationStartOptions for when an id may be reused).
 */
export async function startNotification(
  client: Client,
  event: PaymentEvent,
  retry: RetryBudget,
  opts: { taskQueue?: string; replay?: boolean; eagerStart?: boolean } = {},
): Promise<boolean> {
  const valid = paymentEvent.parse(event);
  try {
    const handle = await client.workflow.start<typeof notificationWorkflow>(NOTIFICATION_WORKFLOW, {
      ...notificationStartOptions(valid, retry, opts),
      requestEagerStart: opts.eagerStart,
    });
    metrics.workflowStarts.inc({ workflow: NOTIFICATION_WORKFLOW, result: 'started' });
    if (handle.eagerlyStarted) metrics.workflowEagerStarts.inc({ workflow: NOTIFICATION_WORKFLOW });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      metrics.workflowStarts.inc({ workflow: NOTIFICATION_WORKFLOW, result: 'duplicate' });
      return false;
    }
    throw err;
  }
}
