/**
 * The workflows package: each workflow's contract (api/: task queue, id, input and result, signals and
 * updates, search attributes, start options — open these first), the activity interfaces the services
 * implement, and the worker. Workflow code itself is loaded by path (WORKFLOWS_PATHS) into Temporal's
 * sandbox, so this index exports the workflow functions as types only.
 */
export * from './api/payment';
export * from './api/refunds';
export * from './api/disputes';
export * from './api/notification';
export * from './api/account-email';
export * from './api/webhooks';
export * from './api/reconciliation';
export * from './api/search-attributes';
export type { paymentWorkflow } from './payment';
export type { refundsWorkflow } from './refunds';
export type { disputeWorkflow } from './disputes';
export type { notificationWorkflow, accountEmailWorkflow } from './notification';
export type { webhookDeliveryWorkflow } from './webhooks';
export type { reconciliationWorkflow, ReconcileActivities } from './reconciliation';
export * from './payment-activities';
export * from './notification-activities';
export { bundleWorkflows } from './bundle';
export { tracingWorkerOptions, WORKFLOW_TRACING_MODULES } from './worker-tracing';
export { createWorker, workerMetrics } from './worker';
export type { WorkerMetricsAddress } from './temporal-logging';

/** Entry points bundled for the workers (and the replay tests). */
export const WORKFLOWS_PATHS = {
  payment: require.resolve('./payment'),
  notification: require.resolve('./notification'),
} as const;
