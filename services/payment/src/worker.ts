import { TASK_QUEUES } from '@paystream/common';
import type { DataConverter } from '@temporalio/common';
import { createWorker, WORKFLOWS_PATHS } from '@paystream/workflows';
import { createPaymentActivities, type PaymentActivityDeps } from './activities';

/** The Temporal worker for the `payments` task queue: the payment workflow and its activities. */
export function createPaymentWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  dataConverter: DataConverter;
  activities: PaymentActivityDeps;
}) {
  return createWorker({
    address: opts.address,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.payments,
    workflowsPath: WORKFLOWS_PATHS.payment,
    activities: createPaymentActivities(opts.activities),
    maxConcurrentActivities: 50,
  });
}
