/**
 * The refunds workflow's contract: one at a time per paid order, so refunds are checked one after another
 * against what Stripe holds. It also takes the payment workflow's `stripeEvent` hint (a dashboard refund).
 */
import { defineUpdate } from '@temporalio/workflow';
import { PAYMENTS_TASK_QUEUE } from './payment';
import { orderSearchAttributes } from './search-attributes';

export const REFUNDS_WORKFLOW = 'refundsWorkflow';
export const refundsWorkflowId = (orderId: string): string => `refunds-${orderId}`;

export interface RefundsInput {
  orderId: string;
  /** The paid PaymentIntent (the payment workflow's result). */
  paymentIntentId: string;
  /** How long the workflow waits for another request before it completes; a later one starts a new run. */
  idleSeconds?: number;
}

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
export const refundUpdateId = (requestId: string): string => `refund-${requestId}`;

/**
 * How every starter starts it (a refund request, a webhook, reconciliation): joined while one runs; a
 * closed one may start again, since it re-reads Stripe and nothing is lost.
 */
export function refundsStartOptions(
  orderId: string,
  paymentIntentId: string,
  taskQueue = PAYMENTS_TASK_QUEUE,
) {
  return {
    workflowId: refundsWorkflowId(orderId),
    taskQueue,
    args: [{ orderId, paymentIntentId }] as [RefundsInput],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    typedSearchAttributes: orderSearchAttributes(orderId),
  };
}
