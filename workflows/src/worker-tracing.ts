import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkerOptions } from '@temporalio/worker';

/**
 * Workflow interceptors bundled with the workflows: a RunWorkflow span continuing the trace the
 * client put in the start request's headers, and the trace context passed on to every activity.
 * Replay tests bundle them too, so a history is replayed by exactly what the workers run.
 */
export const WORKFLOW_TRACING_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/**
 * Worker options that trace workflows and activities. Workflow code runs in a sandbox without I/O,
 * so its spans leave through a sink into the process' span processor (OTLP or a test's exporter).
 * The workflow interceptors are there only when spans leave the process: inside the sandbox every
 * promise they add is recorded with its stack by Temporal's promise hook, and with them a worker spent
 * twice the CPU per order (bench, 10 orders/s: payment 142 → 66 ms, notification 56 → 33 ms). Without
 * them an activity's spans (and log lines' trace ids) start a trace of their own; logs carry the orderId.
 */
export function tracingWorkerOptions(tracing: {
  spanProcessor: SpanProcessor;
  resource: Resource;
  exporting(): boolean;
}): Pick<WorkerOptions, 'interceptors' | 'sinks'> & { interceptors: { workflowModules: string[] } } {
  return {
    interceptors: {
      workflowModules: tracing.exporting() ? WORKFLOW_TRACING_MODULES : [],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
