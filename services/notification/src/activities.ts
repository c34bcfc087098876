import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { paymentEvent, notificationDlqEntry, TOPICS } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { traceHeaders } from '@paystream/common/tracing';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Producer } from 'kafkajs';
import type { Transporter } from 'nodemailer';
import { NOTIFICATION_ERRORS, type NotificationActivities } from '@paystream/workflows';
import { accountEmailRequest, contactSchema } from '@paystream/common/contracts';
import { audienceOf, renderAccountEmail, renderPaymentEmail, type RenderedEmail } from './email/render';
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
async function customerContact(
  deps: NotificationActivityDeps,
  userId: string,
): Promise<{ email: string; verified: boolean }> {
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
  const contact = contactSchema.parse(await res.json());
  return { email: contact.email, verified: contact.verified };
}

export function createNotificationActivities(
  deps: NotificationActivityDeps,
): Pick<NotificationActivities, 'sendEmail' | 'publishDeadLetter' | 'sendAccountEmail'> {
  /** Sends one email; an SMTP failure carries its attempt for the DLQ entry. Returns only the Message-ID. */
  const send = async (to: string, { subject, text, html }: RenderedEmail, messageId: string) => {
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
  };
  return {
    async sendEmail(raw) {
      const event = paymentEvent.parse(raw);
      let to = deps.merchantEmail;
      if (audienceOf(event.status) === 'customer') {
        const contact = await customerContact(deps, event.userId);
        // An address nobody proved is not the customer's to our knowledge: anyone may have typed it.
        if (!contact.verified) {
          notificationMetrics.emailsSkipped.inc({ reason: 'unverified' });
          return { messageId: '' };
        }
        to = contact.email;
      }
      // A stable Message-ID per event: a resend after a lost SMTP reply is recognisable as the same mail.
      return send(to, renderPaymentEmail(event), `<notify-${event.eventId}@paystream.local>`);
    },

    async sendAccountEmail(raw) {
      const request = accountEmailRequest.parse(raw);
      const { email } = await customerContact(deps, request.userId);
      return send(email, renderAccountEmail(request), `<account-${request.id}@paystream.local>`);
    },

    async publishDeadLetter(entry) {
      const valid = notificationDlqEntry.parse(entry);
      await publishJson(deps.producer, TOPICS.notificationDlq, entry.original.orderId, valid);
      notificationMetrics.dlqEntries.inc({ reason: 'retries-exhausted' });
    },
  };
}
