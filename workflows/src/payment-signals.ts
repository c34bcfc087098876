import { defineSignal, defineUpdate } from '@temporalio/workflow';

/** The payment workflow of an order: one per order, so a second start is "already started", not a second charge. */
export const paymentWorkflowId = (orderId: string): string => `payment-${orderId}`;

/** The refunds workflow of a paid order: one at a time per order, so refunds are checked one after another. */
export const refundsWorkflowId = (orderId: string): string => `refunds-${orderId}`;

/** A verified Stripe webhook event about this order's PaymentIntent; the workflow re-reads the intent. */
export interface StripeHint {
  /** Stripe's event id (`evt_…`): a redelivered event has the same id and no second effect. */
  eventId: string;
  type: string;
}

export const stripeEventSignal = defineSignal<[StripeHint]>('stripeEvent');

/** What a customer's cancel came to: nothing charged, the charge refunded, or the payment had failed. */
export interface CancelOutcome {
  status: 'cancelled' | 'refunded' | 'failed';
  refundedAmount?: number;
  failureReason?: string;
}

/**
 * The customer cancels (payment workflow, patch `payment-cancel`). Before the charge the intent is
 * cancelled and nothing is charged; a charge that won the race is refunded in full. Update id `cancel`:
 * a repeated cancel is the same update and gets the same outcome.
 */
export const cancelPaymentUpdate = defineUpdate<CancelOutcome>('cancel');
export const CANCEL_UPDATE_ID = 'cancel';

/** A refund an operator (or a customer's cancel) asks for; `amount` absent means whatever is left. */
export interface RefundRequest {
  /** Identifies the request: asking again with the same id is the same refund, never a second one. */
  requestId: string;
  amount?: number;
  reason?: string;
}

export interface RefundOutcome {
  status: 'partially_refunded' | 'refunded';
  refundId: string;
  /** This refund's amount. */
  amount: number;
  /** Everything refunded on this payment so far, this refund included. */
  refundedAmount: number;
}

export const refundUpdate = defineUpdate<RefundOutcome, [RefundRequest]>('refund');
