/** What the notification workflow asks of the outside world (implemented in services/notification). */
import type { PaymentEvent } from '@paystream/common/events';

export const NOTIFICATION_ERRORS = {
  /** No address to write to: retrying cannot help. */
  recipientUnknown: 'RecipientUnknown',
  /** SMTP refused or was unreachable; carries `{ attempt }` so the DLQ entry can say how often we tried. */
  smtp: 'SmtpError',
  /** The workflow's own failure once the event is on the DLQ (lets a replay reuse the workflow id). */
  deadLettered: 'DeadLettered',
} as const;

export interface DeadLetter {
  original: PaymentEvent;
  error: string;
  attempts: number;
  failedAt: string;
}

export interface NotificationActivities {
  /**
   * Sends the receipt or failure email; Message-ID is derived from the event id. The recipient is looked up
   * here (the event carries none), so no address enters the workflow's history.
   */
  sendEmail(event: PaymentEvent): Promise<{ messageId: string }>;
  publishDeadLetter(entry: DeadLetter): Promise<void>;
}
