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

/** A manual capture's authorization: how long it is held, and what happens when nobody captured it. */
export interface AuthorizationPolicy {
  /** Stripe's authorizations lapse after 7 days (PAYMENT_AUTHORIZATION_LIFETIME). */
  lifetimeSeconds: number;
  /** How long before the workflow acts the merchant is warned (PAYMENT_AUTHORIZATION_WARNING). */
  warningSeconds: number;
  /** PAYMENT_AUTHORIZATION_EXPIRY: release the hold, or take all of it. */
  onExpiry: 'void' | 'capture';
}

/** Settings the starter passes (a second argument, so histories from before it still decode). */
export interface PaymentOptions {
  /** How long the customer has to complete 3-D Secure (PAYMENT_AUTH_TIMEOUT); 30 min when absent. */
  authTimeoutSeconds?: number;
  /** Manual capture (an order with `captureMethod: 'manual'`); Stripe's 7 days and `void` when absent. */
  authorization?: AuthorizationPolicy;
}

/**
 * When the workflow acts on an authorization nobody captured: an hour before Stripe lets it lapse (a tenth
 * of a short test lifetime), so a capture that policy asks for still finds the hold.
 */
export function authorizationDeadlineSeconds(policy: AuthorizationPolicy): number {
  return policy.lifetimeSeconds - Math.min(3600, policy.lifetimeSeconds / 10);
}

export const DEFAULT_AUTHORIZATION: AuthorizationPolicy = {
  lifetimeSeconds: 7 * 24 * 3600,
  warningSeconds: 24 * 3600,
  onExpiry: 'void',
};

export interface PaymentResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  paymentIntentId?: string;
  failureReason?: string;
  /** Manual capture only: what was captured (succeeded); a void or a lapse is `cancelled`. */
  capturedAmount?: number;
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

/** An operator's capture of an authorized order: all of it (no `amount`) or less; at most once. */
export interface CaptureRequest {
  /** Identifies the request: asking again with the same id answers the same capture, never a second one. */
  requestId: string;
  amount?: number;
}

export interface CaptureOutcome {
  status: 'succeeded';
  capturedAmount: number;
  /** What of the authorization was released (not taken). */
  releasedAmount: number;
}

/**
 * Captures an authorized payment. Refused (before anything is recorded) unless the order is authorized
 * and nothing was captured yet, or for more than the authorization; the same request id again answers the
 * first capture.
 */
export const captureUpdate = defineUpdate<CaptureOutcome, [CaptureRequest]>('capture');

/**
 * An operator's void of an authorized order: the hold is released, nothing is taken (a customer's cancel
 * does the same). Refused unless the order is authorized and no capture was asked for; never a refund.
 */
export const voidUpdate = defineUpdate<CancelOutcome>('void');
export const VOID_UPDATE_ID = 'void';
export const captureUpdateId = (requestId: string): string => `capture-${requestId}`;

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
