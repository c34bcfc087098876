import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';

/**
 * Prometheus metrics, one registry per process, served at GET /metrics by every service.
 * Process metrics come from prom-client's defaults; the rest are the ones an operator of Paystream
 * watches: request latency by route, Kafka traffic, workflow starts, payment outcomes, emails and DLQ.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  httpDuration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  kafkaMessages: new Counter({
    name: 'kafka_messages_total',
    help: 'Kafka messages by topic, direction (consumed | produced) and result (ok | invalid | failed)',
    labelNames: ['topic', 'direction', 'result'] as const,
    registers: [registry],
  }),
  workflowStarts: new Counter({
    name: 'workflow_starts_total',
    help: 'Temporal workflow starts by workflow and result (started | duplicate)',
    labelNames: ['workflow', 'result'] as const,
    registers: [registry],
  }),
  paymentOutcomes: new Counter({
    name: 'payment_outcomes_total',
    help: 'Published payment events by status (succeeded | failed | requires_action | cancelled | partially_refunded | refunded)',
    labelNames: ['status'] as const,
    registers: [registry],
  }),
  // Orders moved by a payment event, by the status they reached: the dashboard's orders/s by outcome.
  orderOutcomes: new Counter({
    name: 'order_outcomes_total',
    help: 'Orders moved to a status by a payment event (paid | failed | requires_action | cancelled | partially_refunded | refunded)',
    labelNames: ['status'] as const,
    registers: [registry],
  }),
  orderPaymentSeconds: new Histogram({
    name: 'order_payment_seconds',
    help: 'From POST /orders/create to the payment outcome (paid | failed | cancelled), 3-D Secure waits included',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  }),
  stripeResponses: new Counter({
    name: 'stripe_responses_total',
    help: "Stripe API answers by status class (2xx | 4xx | 5xx); network failures show as the activities' retries",
    labelNames: ['status'] as const,
    registers: [registry],
  }),
  stripeWebhooks: new Counter({
    name: 'stripe_webhooks_total',
    help: 'Stripe webhook deliveries by event type and result (signalled | no-workflow | ignored | bad-signature)',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  }),
  refunds: new Counter({
    name: 'refund_requests_total',
    help: 'Refund requests (operator refunds and cancels of paid orders) by result (refunded | refused)',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  // Should stay 0: a non-zero value means a forged event or a bug between payment and order (alert on it).
  paymentEventsRefused: new Counter({
    name: 'payment_events_refused_total',
    help: 'payment.event messages the order service refused and parked, by reason (amount_mismatch)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  emailsSent: new Counter({
    name: 'emails_sent_total',
    help: 'Emails accepted by SMTP',
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
};

/** A gauge whose value is read when Prometheus scrapes (e.g. the outbox backlog from Postgres). */
export function scrapedGauge(name: string, help: string, read: () => Promise<number>): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read().catch(() => -1));
    },
  });
}

export const metricsHandler: RequestHandler = async (_req, res) => {
  res.type(registry.contentType).send(await registry.metrics());
};
