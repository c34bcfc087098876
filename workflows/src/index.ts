/**
 * The workflows package's contracts: what services import to start these workflows, implement their
 * activities and run their workers. Workflow code itself is loaded by path (WORKFLOWS_PATHS) into
 * Temporal's sandbox, so this index exports the workflow functions as types only.
 */
export type { paymentWorkflow, PaymentResult } from './payment';
export type { refundsWorkflow, RefundsInput } from './refunds';
export type { notificationWorkflow } from './notification';
export type {
  reconciliationWorkflow,
  ReconcileActivities,
  ReconcileInput,
  ReconcileReport,
  RulePass,
} from './reconciliation';
export { RECONCILE_SCHEDULES } from './reconciliation';
export * from './payment-activities';
export * from './payment-signals';
export * from './notification-activities';
export * from './search-attributes';
export { bundleWorkflows } from './bundle';
export { tracingWorkerOptions, WORKFLOW_TRACING_MODULES } from './worker-tracing';
export { createWorker } from './worker';

/** Entry points bundled for the workers (and the replay tests). */
export const WORKFLOWS_PATHS = {
  payment: require.resolve('./payment'),
  notification: require.resolve('./notification'),
} as const;
