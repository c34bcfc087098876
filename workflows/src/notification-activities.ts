/** What the notification workflow asks of the outside world (implemented in services/notification). */
import type { AccountEmailRequest } from '@paystream/common/contracts';
import type { PaymentEvent } from '@paystream/common/events';

export const NOTIFICATION_ERRORS = {
  /** No address to write to: retrying cannot help. */
  recipientUnknown: 'RecipientUnknown',
  /** SMTP refused or was unreachable; carries `{ attempt }` so the DLQ entry can say how often we tried. */
  smtp: 'SmtpError',
  /** The workflow's own failure once the event is on the DLQ (lets a replay reuse the workflow id). */
  deadLettered: 'DeadLettered',
  /** A webhook endpoint an operator (or sustained failure) disabled: its deliveries stop. */
  endpointDisabled: 'EndpointDisabled',
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
  /** Sends an account email (the address looked up here, as for payment emails); Message-ID from its id. */
  sendAccountEmail(request: AccountEmailRequest): Promise<{ messageId: string }>;
  /**
   * One attempt of a webhook delivery (signed, POSTed, recorded in the delivery log). Succeeds on a 2xx,
   * also when the delivery was made before; fails (retried) otherwise; EndpointDisabled when its endpoint is.
   */
  deliverWebhook(deliveryId: string): Promise<void>;
  /** Marks a delivery whose attempts are spent (`failed`) or whose endpoint is disabled (`skipped`). */
  finishWebhookDelivery(deliveryId: string, status: 'failed' | 'skipped'): Promise<void>;
}
