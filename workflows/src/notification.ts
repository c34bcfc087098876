import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NotificationActivities, NotificationInput } from './notification-activities';
import { NOTIFICATION_ERRORS } from './notification-activities';
import { ORDER_ID, USER_ID } from './search-attributes';

const { publishDeadLetter } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * One email per payment.event (workflow id `notify-<eventId>`). SMTP failures are retried with
 * exponential backoff within the configured budget; when it is spent, the event goes to the
 * notification.dlq topic and the workflow fails, which is what allows an operator's replay to run
 * the same workflow id again — and only then: a sent email's workflow completed, so a replay of it
 * is refused.
 */
export async function notificationWorkflow({
  event,
  retry,
}: NotificationInput): Promise<{ messageId: string }> {
  upsertSearchAttributes([
    { key: ORDER_ID, value: event.orderId },
    { key: USER_ID, value: event.userId },
  ]);
  const { sendEmail } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [NOTIFICATION_ERRORS.recipientUnknown],
    },
  });
  try {
    const { messageId } = await sendEmail(event);
    return { messageId };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
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
