import { defineSignal } from '@temporalio/workflow';

/** The payment workflow of an order: one per order, so a second start is "already started", not a second charge. */
export const paymentWorkflowId = (orderId: string): string => `payment-${orderId}`;

/** A verified Stripe webhook event about this order's PaymentIntent; the workflow re-reads the intent. */
export interface StripeHint {
  /** Stripe's event id (`evt_…`): a redelivered event has the same id and no second effect. */
  eventId: string;
  type: string;
}

export const stripeEventSignal = defineSignal<[StripeHint]>('stripeEvent');
