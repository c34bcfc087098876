/**
 * The dispute workflow's contract: one workflow per Stripe dispute (chargeback) of an order's charge, from
 * Stripe's first word of it to the bank's decision. Started by the dispute's webhooks (`charge.dispute.*`) or
 * by reconciliation, whichever comes first; each later webhook is a hint to re-read the dispute.
 */
import type { DisputeInfo } from '@paystream/common/events';
import { PAYMENTS_TASK_QUEUE } from './payment';
import { orderSearchAttributes } from './search-attributes';

export const DISPUTE_WORKFLOW = 'disputeWorkflow';
export const disputeWorkflowId = (disputeId: string): string => `dispute-${disputeId}`;

export interface DisputeInput {
  orderId: string;
  disputeId: string;
  /** How long before the evidence is due the merchant is reminded (DISPUTE_EVIDENCE_WARNING); 2 days. */
  evidenceWarningSeconds?: number;
}

/** A dispute as the workflow decides on it: Stripe's, with the order's payment it belongs to. */
export interface DisputeState extends DisputeInfo {
  orderId: string;
  userId: string;
  paymentIntentId: string;
  /** The order's amount and currency (a payment.event names the order's, the dispute its own amount). */
  orderAmount: number;
  currency: string;
  /** Still to be decided by the bank. */
  open: boolean;
}

/**
 * How every starter starts it (a webhook, reconciliation): joined while one runs; a closed one may run
 * again, since it re-reads Stripe and announces nothing twice (its events are named by the dispute).
 */
export function disputeStartOptions(input: DisputeInput, taskQueue = PAYMENTS_TASK_QUEUE) {
  return {
    workflowId: disputeWorkflowId(input.disputeId),
    taskQueue,
    args: [input] as [DisputeInput],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    typedSearchAttributes: orderSearchAttributes(input.orderId),
  };
}

/** The `kind` of a dispute's payment.event: named by the dispute, so a later run announces it as the same event. */
export const disputeEventKind = (disputeId: string, what: string): string => `dispute:${disputeId}:${what}`;
