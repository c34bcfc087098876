import { registry } from '@paystream/common';
import { Counter } from 'prom-client';

/** The order service's own metrics. */
export const orderMetrics = {
  secondCharges: new Counter({
    name: 'payment_second_charge_alarms_total',
    help: 'succeeded events for an order already paid with another PaymentIntent: a customer charged twice',
    registers: [registry],
  }),
};
