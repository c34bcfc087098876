import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { paymentEvent, notificationDlqEntry, TOPICS } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { traceHeaders } from '@paystream/common/tracing';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Producer } from 'kafkajs';
import type { Transporter } from 'nodemailer';
import { NOTIFICATION_ERRORS, type NotificationActivities } from '@paystream/workflows';
import { audienceOf, renderPaymentEmail } from './email/render';
import { notificationMetrics } from './metrics';

export interface NotificationActivityDeps {
  mailer: Transporter;
  from: string;
  producer: Producer;
  userServiceUrl: string;
  serviceToken: string;
  /** Where notices for the merchant go (MERCHANT_EMAIL). */
  merchantEmail: string;
}

/**
 * The customer's address, from the user service's internal contact route at send time: payment.event carries
 * no address, and an activity returns only the Message-ID, so none is kept in a history.
 */
async function customerAddress(deps: NotificationActivityDeps, userId: string): Promise<string> {
  const res = await fetch(new URL(`/contact/${encodeURIComponent(userId)}`, deps.userServiceUrl), {
    headers: { [SERVICE_TOKEN_HEADER]: deps.serviceToken, ...traceHeaders() },
    signal: AbortSignal.timeout(4000),
  });
  if (res.status === 404)
    throw ApplicationFailure.nonRetryable(
      `No user ${userId} to notify`,
      NOTIFICATION_ERRORS.recipientUnknown,
    );
  if (!res.ok) throw new Error(`user service answered HTTP ${res.status}`);
  return ((await res.json()) as { email: string }).email;
}

export function createNotificationActivities(
  deps: NotificationActivityDeps,
): Pick<NotificationActivities, 'sendEmail' | 'publishDeadLetter'> {
  return {
    async sendEmail(raw) {
      const event = paymentEvent.parse(raw);
      const to =
        audienceOf(event.status) === 'merchant'
          ? deps.merchantEmail
          : await customerAddress(deps, event.userId);
      const { subject, text, html } = renderPaymentEmail(event);
      // A stable Message-ID per event: a resend after a lost SMTP reply is recognisable as the same mail.
      const messageId = `<notify-${event.eventId}@paystream.local>`;
      try {
        await deps.mailer.sendMail({ from: deps.from, to, subject, text, html, messageId });
      } catch (err) {
        const attempt = Context.current().info.attempt;
        notificationMetrics.emailFailures.inc();
        throw ApplicationFailure.create({
          message: `SMTP: ${(err as Error).message}`,
          type: NOTIFICATION_ERRORS.smtp,
          details: [{ attempt }],
        });
      }
      notificationMetrics.emailsSent.inc();
      // Not the address: an activity's result is kept in the workflow's history.
      return { messageId };
    },

    async publishDeadLetter(entry) {
      const valid = notificationDlqEntry.parse(entry);
      await publishJson(deps.producer, TOPICS.notificationDlq, entry.original.orderId, valid);
      notificationMetrics.dlqEntries.inc({ reason: 'retries-exhausted' });
    },
  };
}
