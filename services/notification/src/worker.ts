import { TASK_QUEUES, tracing } from '@paystream/common';
import { bundleWorkflows } from '@paystream/workflows/src/bundle';
import { tracingWorkerOptions } from '@paystream/workflows/src/worker-tracing';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  createNotificationActivities,
  type NotificationActivityDeps,
} from './activities/notification-activities';

export const NOTIFICATION_WORKFLOWS_PATH = require.resolve('@paystream/workflows/src/notification');

/** The Temporal worker for the `notifications` task queue. */
export async function createNotificationWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  activities: NotificationActivityDeps;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.notifications,
    workflowBundle: await bundleWorkflows(NOTIFICATION_WORKFLOWS_PATH),
    ...tracingWorkerOptions(tracing()),
    activities: createNotificationActivities(opts.activities),
    maxConcurrentActivityTaskExecutions: 20,
  });
  return { worker, connection };
}
