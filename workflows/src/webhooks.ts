import {
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TemporalFailure,
  ApplicationFailure,
  ActivityFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { NOTIFICATION_ERRORS, type NotificationActivities } from './notification-activities';
import { webhookDeliverySignal, type WebhookInput } from './api/webhooks';

const DEFAULT_IDLE_SECONDS = 10 * 60;
/** A run's history is kept short: past this many events the rest of the queue goes on in a new run. */
const HISTORY_LIMIT = 2000;

const { finishWebhookDelivery } = proxyLocalActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * One merchant endpoint's deliveries of one order's events (workflow id `webhooks-<endpointId>-<orderId>`):
 * first in, first out, so the merchant hears of an order's steps in the order they happened. Each delivery is
 * an activity retried with exponential backoff for `retry.totalSeconds` (three days by default) — a receiver
 * down for hours gets everything when it is back, in order — then recorded `failed`, and the next goes. An
 * endpoint that is disabled (by an operator, or after failing for too long) ends its deliveries as `skipped`.
 */
export async function webhookDeliveryWorkflow(input: WebhookInput): Promise<void> {
  const queue: string[] = [...(input.pending ?? [])];
  setHandler(webhookDeliverySignal, ({ deliveryId }) => {
    if (!queue.includes(deliveryId)) queue.push(deliveryId);
  });
  const { deliverWebhook } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: input.retry.totalSeconds * 1000,
    retry: {
      initialInterval: input.retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: input.retry.maximumIntervalMs,
      nonRetryableErrorTypes: [NOTIFICATION_ERRORS.endpointDisabled],
    },
  });
  const idleMs = (input.idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
  for (;;) {
    if (!queue.length && !(await condition(() => queue.length > 0, idleMs))) return;
    if (workflowInfo().historyLength > HISTORY_LIMIT)
      await continueAsNew<typeof webhookDeliveryWorkflow>({ ...input, pending: [...queue] });
    const deliveryId = queue[0]!;
    try {
      await deliverWebhook(deliveryId);
    } catch (err) {
      if (!(err instanceof TemporalFailure)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const disabled =
        cause instanceof ApplicationFailure && cause.type === NOTIFICATION_ERRORS.endpointDisabled;
      await finishWebhookDelivery(deliveryId, disabled ? 'skipped' : 'failed');
    }
    queue.shift();
  }
}
