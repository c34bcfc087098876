/**
 * The payment workflow's contract: everything a starter, a signaller and the workflow itself agree on.
 * One workflow per order, so a second start is "already started", never a second charge.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderCreateEvent } from '@paystream/common/events';
import { orderSearchAttributes } from './search-attributes';

/** The payment worker's queue: it runs the payment, refunds and reconciliation workflows. */
export const PAYMENTS_TASK_QUEUE = 'payments';
export const PAYMENT_WORKFLOW = 'paymentWorkflow';
export const paymentWorkflowId = (orderId: string): string => `payment-${orderId}`;

/** The workflow's input is the order.create event as it arrived. */
export type PaymentInput = OrderCreateEvent;

/** Settings the starter passes (a second argument, so histories from before it still decode). */
export interface PaymentOptions {
  /** How long the customer has to complete 3-D Secure (PAYMENT_AUTH_TIMEOUT); 30 min when absent. */
  authTimeoutSeconds?: number;
}

export interface PaymentResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  paymentIntentId?: string;
  failureReason?: string;
}

/** A verified Stripe webhook event about this order's PaymentIntent; the workflow re-reads the intent. */
export interface StripeHint {
  /** Stripe's event id (`evt_…`): a redelivered event has the same id and no second effect. */
  eventId: string;
  type: string;
}

/** Sent to the payment workflow and to the refunds workflow: a hint to re-read Stripe. */
export const stripeEventSignal = defineSignal<[StripeHint]>('stripeEvent');

/** What a customer's cancel came to: nothing charged, the charge refunded, or the payment had failed. */
export interface CancelOutcome {
  status: 'cancelled' | 'refunded' | 'failed';
  refundedAmount?: number;
  failureReason?: string;
}

/**
 * The customer cancels. Before the charge the intent is cancelled and nothing is charged; a charge that
 * won the race is refunded in full. Update id `cancel`: a repeated cancel is the same update and gets the
 * same outcome.
 */
export const cancelPaymentUpdate = defineUpdate<CancelOutcome>('cancel');
export const CANCEL_UPDATE_ID = 'cancel';

/**
 * How every starter starts an order's payment (order.create, or a cancel that arrives first). A closed
 * payment is never run again (REJECT_DUPLICATE): a cancel of it becomes a refund.
 */
export function paymentStartOptions(
  order: PaymentInput,
  options: PaymentOptions,
  taskQueue = PAYMENTS_TASK_QUEUE,
) {
  return {
    workflowId: paymentWorkflowId(order.orderId),
    taskQueue,
    args: [order, options] as [PaymentInput, PaymentOptions],
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: orderSearchAttributes(order.orderId, order.userId),
    memo: { amount: order.amount, currency: order.currency },
  };
}
