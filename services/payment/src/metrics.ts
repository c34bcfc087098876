import { registry } from '@paystream/common/metrics';
import { Counter } from 'prom-client';

/** The payment service's own metrics (the ledger's are in ledger/metrics.ts). */
export const paymentMetrics = {
  paymentOutcomes: new Counter({
    name: 'payment_outcomes_total',
    help: 'Published payment events by status (succeeded | failed | requires_action | cancelled | partially_refunded | refunded)',
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
};
