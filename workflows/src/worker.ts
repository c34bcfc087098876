import { type Logger } from '@paystream/common/logger';
import { type TemporalConnectionOptions } from '@paystream/common/temporal-options';
import { tracing } from '@paystream/common/tracing';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workflowBundleFor } from './bundle';
import { installTemporalLogging, type WorkerMetricsAddress } from './temporal-logging';
import { tracingWorkerOptions } from './worker-tracing';

export interface WorkerOptions<Activities> {
  /** temporalConnectionOptions(cfg): address, TLS/mTLS, API key. */
  connection: TemporalConnectionOptions;
  namespace: string;
  taskQueue: string;
  /** The file of the workflows this worker runs (WORKFLOWS_PATHS.payment, …): its bundle, prebuilt or made now. */
  workflowsPath: string;
  activities: Activities;
  /** dataConverterFor(cfg): the payload codec and failure converter the clients use too. */
  dataConverter: DataConverter;
  /** Activity slots: bounded so a slow dependency backs work up in Temporal, not in this process' memory. */
  maxConcurrentActivities: number;
  /** The service's logger: Temporal's own lines go through it too (see installTemporalLogging). */
  logger?: Logger;
  /** Where the SDK's worker metrics are served for Prometheus, if anywhere (see installTemporalLogging). */
  metrics?: WorkerMetricsAddress;
}

/** The `metrics` option from a service's *_WORKER_METRICS_PORT setting (0: none). */
export function workerMetrics(host: string, port: number): WorkerMetricsAddress | undefined {
  return port ? { host, port } : undefined;
}

/** A traced Temporal worker on its own connection; both are returned so the caller can stop them in order. */
export async function createWorker<Activities extends object>(
  opts: WorkerOptions<Activities>,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  if (opts.logger) installTemporalLogging(opts.logger, opts.metrics);
  const connection = await NativeConnection.connect(opts.connection);
  // The workflow interceptors go into the bundle; given beside a bundle as well, the SDK warns it ignores them.
  const { interceptors, sinks } = tracingWorkerOptions(tracing());
  const { workflowModules, ...activityInterceptors } = interceptors;
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundleFor(opts.workflowsPath, workflowModules),
    dataConverter: opts.dataConverter,
    interceptors: activityInterceptors,
    sinks,
    activities: opts.activities,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities,
  });
  return { worker, connection };
}
