import { TASK_QUEUES } from '@paystream/common';
import type { DataConverter } from '@temporalio/common';
import { createWorker, WORKFLOWS_PATHS } from '@paystream/workflows';
import { createNotificationActivities, type NotificationActivityDeps } from './activities';

/** The Temporal worker for the `notifications` task queue: the notification workflow and its activities. */
export function createNotificationWorker(opts: {
  address: string;
  namespace: string;
  taskQueue?: string;
  dataConverter: DataConverter;
  activities: NotificationActivityDeps;
}) {
  return createWorker({
    address: opts.address,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    taskQueue: opts.taskQueue ?? TASK_QUEUES.notifications,
    workflowsPath: WORKFLOWS_PATHS.notification,
    activities: createNotificationActivities(opts.activities),
    maxConcurrentActivities: 20,
  });
}
