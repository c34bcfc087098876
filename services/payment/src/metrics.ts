import { registry } from '@paystream/common/metrics';
import { Counter, Gauge } from 'prom-client';

/** The payment service's own metrics (the ledger's are in ledger/metrics.ts). */
export const paymentMetrics = {
  paymentOutcomes: new Counter({
    name: 'payment_outcomes_total',
    help: 'Published payment events by status (succeeded | failed | requires_action | authorized | cancelled | partially_refunded | refunded | disputed | dispute_won | dispute_lost | authorization_expiring | dispute_evidence_due)',
    labelNames: ['status'] as const,
    registers: [registry],
  }),
  stripeWebhooks: new Counter({
    name: 'stripe_webhooks_total',
    help: 'Stripe webhook deliveries by event type and result (signalled | settled | no-workflow | ignored | bad-signature)',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  }),
  refunds: new Counter({
    name: 'refund_requests_total',
    help: 'Refund requests (operator refunds and cancels of paid orders) by result (refunded | refused)',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  captures: new Counter({
    name: 'capture_requests_total',
    help: 'Capture requests of authorized orders by result (captured | refused)',
    labelNames: ['result'] as const,
    registers: [registry],
  }),
  /** Warnings that an authorization nobody captured is about to be voided or captured by itself. */
  authorizationsExpiring: new Counter({
    name: 'payment_authorizations_expiring_total',
    help: 'Authorizations about to lapse uncaptured (the merchant was emailed); PaystreamAuthorizationExpiring',
    registers: [registry],
  }),
  disputes: new Counter({
    name: 'payment_disputes_total',
    help: 'Disputes by what happened (opened | evidence_due | won | lost); PaystreamDisputeOpened',
    labelNames: ['event'] as const,
    registers: [registry],
  }),
  disputesOpen: new Gauge({
    name: 'payment_disputes_open',
    help: 'Disputes open in the ledger (as of the last reconciliation pass)',
    registers: [registry],
  }),
};
