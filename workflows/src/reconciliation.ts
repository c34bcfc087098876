import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileInput, ReconcileReport, RulePass } from './api/reconciliation';

/**
 * Reconciliation: the payment ledger held against Stripe and against the order service, on a Temporal
 * Schedule (`reconciliation` every RECONCILE_INTERVAL, `reconciliation-daily` over a longer window). What
 * can be healed is healed through the workflows that would have done it; what cannot is recorded as drift
 * for an operator (`npm run ops -- recon`).
 */
export interface ReconcileActivities {
  /** (a) Open payments past the threshold: re-read from Stripe; a running workflow is woken to finish. */
  reconcileOpenPayments(input: ReconcileInput): Promise<RulePass>;
  /** (b) Stripe's PaymentIntents and refunds created in the window, matched against the ledger. */
  reconcileStripeObjects(input: ReconcileInput): Promise<RulePass>;
  /** (c) The order service's statuses matched against the ledger's outcomes of the window. */
  reconcileOrderStatuses(input: ReconcileInput): Promise<RulePass>;
  /** Sets the drift gauge and the last-pass time; answers the unresolved findings. */
  reportDrift(input: ReconcileInput): Promise<number>;
}

/**
 * Retry policy: a pass reads and compares, and every heal it triggers is idempotent (signals carry stable
 * ids, refunds re-read Stripe), so a failed rule is retried three times and the next pass covers the rest.
 * Heartbeats let a worker restart hand a long page-through to another attempt within a minute.
 */
const rules = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function reconciliationWorkflow(input: ReconcileInput): Promise<ReconcileReport> {
  const openPayments = await rules.reconcileOpenPayments(input);
  const stripe = await rules.reconcileStripeObjects(input);
  const orders = await rules.reconcileOrderStatuses(input);
  const openDrift = await rules.reportDrift(input);
  return { openPayments, stripe, orders, openDrift };
}
