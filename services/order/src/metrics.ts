import { registry } from '@paystream/common/metrics';
import { Counter, Histogram } from 'prom-client';

/** The order service's own metrics. */
export const orderMetrics = {
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
  // Should stay 0: a non-zero value means a forged event or a bug between payment and order (alert on it).
  paymentEventsRefused: new Counter({
    name: 'payment_events_refused_total',
    help: 'payment.event messages the order service refused and parked, by reason (amount_mismatch)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  secondCharges: new Counter({
    name: 'payment_second_charge_alarms_total',
    help: 'succeeded events for an order already paid with another PaymentIntent: a customer charged twice',
    registers: [registry],
  }),
};
