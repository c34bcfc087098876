import {
  ApplicationFailure,
  proxyLocalActivities,
  TemporalFailure,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { AccountEmailInput } from './api/account-email';
import type { NotificationInput } from './api/notification';
import type { NotificationActivities } from './notification-activities';
import { NOTIFICATION_ERRORS } from './notification-activities';

const deadLetter: LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * One email per payment.event (workflow id `notify-<eventId>`). SMTP failures are retried with
 * exponential backoff within the configured budget; when it is spent, the event goes to the
 * notification.dlq topic and the workflow fails, which is what allows an operator's replay to run
 * the same workflow id again — and only then: a sent email's workflow completed, so a replay of it
 * is refused. Its search attributes are set by the starter (notificationStartOptions).
 */
export async function notificationWorkflow({
  event,
  retry,
}: NotificationInput): Promise<{ messageId: string }> {
  const send: LocalActivityOptions = {
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [NOTIFICATION_ERRORS.recipientUnknown],
    },
  };
  // Local activities, as in the payment workflow: one workflow task per email. Backoffs longer than a
  // minute wait on a durable timer, so a long SMTP outage holds no worker slot.
  const { sendEmail } = proxyLocalActivities<NotificationActivities>(send);
  const { publishDeadLetter } = proxyLocalActivities<NotificationActivities>(deadLetter);
  try {
    const { messageId } = await sendEmail(event);
    return { messageId };
  } catch (err) {
    // ActivityFailure around the cause from an activity; bare from a local activity.
    if (!(err instanceof TemporalFailure)) throw err;
    const cause = err instanceof ApplicationFailure ? err : err.cause;
    const details =
      cause instanceof ApplicationFailure
        ? (cause.details?.[0] as { attempt?: number } | undefined)
        : undefined;
    await publishDeadLetter({
      original: event,
      error: cause?.message ?? err.message,
      attempts: details?.attempt ?? retry.maximumAttempts,
      failedAt: new Date().toISOString(),
    });
    throw ApplicationFailure.nonRetryable(
      `Email for order ${event.orderId} not sent; event dead-lettered`,
      NOTIFICATION_ERRORS.deadLettered,
    );
  }
}

/**
 * One account email (see api/account-email.ts): the same SMTP retries as a payment email, then the workflow
 * fails and the user asks for a new link.
 */
export async function accountEmailWorkflow({
  request,
  retry,
}: AccountEmailInput): Promise<{ messageId: string }> {
  const { sendAccountEmail } = proxyLocalActivities<NotificationActivities>({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [NOTIFICATION_ERRORS.recipientUnknown],
    },
  });
  return sendAccountEmail(request);
}

// The notification worker delivers the merchants' webhooks too (same task queue).
export { webhookDeliveryWorkflow } from './webhooks';
