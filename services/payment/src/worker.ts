import { TASK_QUEUES, tracing } from '@paystream/common';
import { bundleWorkflows } from '@paystream/workflows/src/bundle';
import { tracingWorkerOptions } from '@paystream/workflows/src/worker-tracing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPaymentActivities, type PaymentActivityDeps } from './activities/payment-activities';

export const PAYMENT_WORKFLOWS_PATH = require.resolve('@paystream/workflows/src/payment');

/** The Temporal worker for the `payments` task queue: the payment workflow and its activities. */
export async function createPaymentWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  activities: PaymentActivityDeps;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.payments,
    workflowBundle: await bundleWorkflows(PAYMENT_WORKFLOWS_PATH),
    ...tracingWorkerOptions(tracing()),
    activities: createPaymentActivities(opts.activities),
    maxConcurrentActivityTaskExecutions: 50,
  });
  return { worker, connection };
}
