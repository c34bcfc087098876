import { type Logger } from '@paystream/common/logger';
import { type TemporalConnectionOptions } from '@paystream/common/temporal-options';
import type { DataConverter } from '@temporalio/common';
import {
  createWorker,
  PAYMENTS_TASK_QUEUE,
  WORKFLOWS_PATHS,
  type WorkerMetricsAddress,
} from '@paystream/workflows';
import { createPaymentActivities, type PaymentActivityDeps } from './activities';
import { createReconcileActivities, type ReconcileDeps } from './reconcile';

/** The Temporal worker for the `payments` task queue: payment, refunds and reconciliation workflows. */
export function createPaymentWorker(opts: {
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue?: string;
  dataConverter: DataConverter;
  logger?: Logger;
  /** Where the SDK serves its worker metrics, if anywhere. */
  metrics?: WorkerMetricsAddress;
  activities: PaymentActivityDeps;
  reconcile: ReconcileDeps;
}) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    logger: opts.logger,
    metrics: opts.metrics,
    taskQueue: opts.taskQueue ?? PAYMENTS_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATHS.payment,
    activities: { ...createPaymentActivities(opts.activities), ...createReconcileActivities(opts.reconcile) },
    maxConcurrentActivities: 50,
  });
}
