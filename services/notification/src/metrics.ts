import { registry } from '@paystream/common/metrics';
import { Counter } from 'prom-client';

/** The notification service's own metrics. */
export const notificationMetrics = {
  emailsSent: new Counter({
    name: 'emails_sent_total',
    help: 'Emails accepted by SMTP',
    registers: [registry],
  }),
  emailsSkipped: new Counter({
    name: 'emails_skipped_total',
    help: 'Payment emails not sent, by reason (unverified: the customer never proved the address)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  // Retries of a send run inside the worker (a local activity), so this is where an SMTP outage shows.
  emailFailures: new Counter({
    name: 'email_send_failures_total',
    help: 'Failed email send attempts (each one is retried until the budget is spent)',
    registers: [registry],
  }),
  dlqEntries: new Counter({
    name: 'notification_dlq_entries_total',
    help: 'Entries written to notification.dlq by reason (retries-exhausted | invalid)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  webhookAttempts: new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts to merchant endpoints by result (delivered | failed)',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  webhookEndpointsDisabled: new Counter({
    name: 'webhook_endpoints_disabled_total',
    help: 'Merchant endpoints disabled after failing for WEBHOOK_DISABLE_AFTER_SECONDS; PaystreamWebhookEndpointDisabled',
    registers: [registry],
  }),
};
