/**
 * The reconciliation workflow's contract: the payment ledger held against Stripe and against the order
 * service, started by two Temporal Schedules on the payment worker's queue.
 */
import { PAYMENTS_TASK_QUEUE } from './payment';

export const RECONCILIATION_WORKFLOW = 'reconciliationWorkflow';
/** Schedule ids; each Schedule's workflow runs under the same id (one pass at a time, SKIP on overlap). */
export const RECONCILE_SCHEDULES = { interval: 'reconciliation', daily: 'reconciliation-daily' } as const;

export interface ReconcileInput {
  pass: keyof typeof RECONCILE_SCHEDULES;
  /** Stripe objects created, and ledger outcomes recorded, this many seconds back are compared. */
  windowSeconds: number;
  /** A payment open (not final) and unchanged for this long is looked at. */
  staleSeconds: number;
}

/** One rule's work: what it compared, healed, and recorded as drift for the first time. */
export interface RulePass {
  checked: number;
  healed: number;
  drift: number;
}

export interface ReconcileReport {
  openPayments: RulePass;
  stripe: RulePass;
  orders: RulePass;
  /** Unresolved drift after the pass, all kinds. */
  openDrift: number;
}

/** A Schedule's action: one pass of `input` under the Schedule's own id. */
export function reconciliationScheduleAction(input: ReconcileInput, taskQueue = PAYMENTS_TASK_QUEUE) {
  return {
    type: 'startWorkflow' as const,
    workflowType: RECONCILIATION_WORKFLOW,
    workflowId: RECONCILE_SCHEDULES[input.pass],
    taskQueue,
    args: [input] as [ReconcileInput],
  };
}
