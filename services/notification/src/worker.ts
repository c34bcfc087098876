import { type Logger } from '@paystream/common/logger';
import { type TemporalConnectionOptions } from '@paystream/common/temporal-options';
import type { DataConverter } from '@temporalio/common';
import {
  createWorker,
  NOTIFICATIONS_TASK_QUEUE,
  WORKFLOWS_PATHS,
  type WorkerMetricsAddress,
} from '@paystream/workflows';
import { createNotificationActivities, type NotificationActivityDeps } from './activities';
import { createWebhookActivities, type WebhookDeliveryDeps } from './webhooks/deliver';

/** The Temporal worker for the `notifications` task queue: the notification workflow and its activities. */
export function createNotificationWorker(opts: {
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue?: string;
  dataConverter: DataConverter;
  logger?: Logger;
  /** Where the SDK serves its worker metrics, if anywhere. */
  metrics?: WorkerMetricsAddress;
  activities: NotificationActivityDeps;
  webhooks: WebhookDeliveryDeps;
}) {
  return createWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: opts.dataConverter,
    logger: opts.logger,
    metrics: opts.metrics,
    taskQueue: opts.taskQueue ?? NOTIFICATIONS_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATHS.notification,
    activities: {
      ...createNotificationActivities(opts.activities),
      ...createWebhookActivities(opts.webhooks),
    },
    maxConcurrentActivities: 20,
  });
}
