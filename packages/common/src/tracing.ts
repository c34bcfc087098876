import type { IncomingHttpHeaders } from 'node:http';
import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export { SpanKind };

/**
 * Hands every finished span to a list of processors that can grow: the OTLP exporter when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set, and whatever a test adds (an in-memory exporter).
 */
class FanOutSpanProcessor implements SpanProcessor {
  readonly processors: SpanProcessor[] = [];
  onStart(span: Parameters<SpanProcessor['onStart']>[0], parent: Context): void {
    for (const p of this.processors) p.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
}

export interface Tracing {
  tracer: Tracer;
  resource: Resource;
  /** Every span of the process ends here, workflow spans included (the worker's exporter sink). */
  spanProcessor: SpanProcessor;
  addSpanProcessor(processor: SpanProcessor): void;
  /** Whether spans leave the process (an OTLP endpoint, a test's exporter): costly tracing is worth it then. */
  exporting(): boolean;
  /** Flushes what is buffered; called on shutdown so the last spans are not lost. */
  shutdown(): Promise<void>;
}

type OtlpExporterModule = typeof import('@opentelemetry/exporter-trace-otlp-http');

let current: Tracing | undefined;

/**
 * OpenTelemetry for one process: W3C trace context, async-local context, spans always recorded (so
 * every log line has a trace id) and exported over OTLP/HTTP only when an endpoint is configured.
 * Calling it again returns the same instance: there is one tracer provider per process.
 */
export function initTracing(service: string, otlpEndpoint?: string): Tracing {
  if (current) return current;
  const resource = new Resource({ 'service.name': `paystream-${service}` });
  const fanOut = new FanOutSpanProcessor();
  if (otlpEndpoint) {
    // Loaded only when spans leave the process: the exporter brings protobufjs and the metrics SDK along
    // (a third of an idle proxy's modules).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as OtlpExporterModule;
    fanOut.processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` })),
    );
  }
  const provider = new BasicTracerProvider({ resource, spanProcessors: [fanOut] });
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });
  current = {
    tracer: trace.getTracer('paystream'),
    resource,
    spanProcessor: fanOut,
    addSpanProcessor: (p) => fanOut.processors.push(p),
    exporting: () => fanOut.processors.length > 0,
    shutdown: () => provider.forceFlush().catch(() => undefined),
  };
  return current;
}

/** The process' tracing; a library used without `initTracing` (a test) gets one with no exporter. */
export function tracing(): Tracing {
  return current ?? initTracing(process.env.OTEL_SERVICE_NAME ?? 'test');
}

/** Runs `fn` in a new span (child of the active context or of `parent`); errors mark the span and rethrow. */
export async function inSpan<T>(
  name: string,
  opts: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.parent ?? context.active();
  return tracing().tracer.startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** W3C `traceparent` (and `tracestate`, `baggage`) of `ctx`, as plain headers for HTTP, Kafka or a row. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context an HTTP caller sent (`traceparent`), or the root context. */
export function contextFromHttp(headers: IncomingHttpHeaders): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

const LOG_FIELDS = createContextKey('paystream.log-fields');

/** Adds fields (an order id) to every log line written while `fn` runs, however deep. */
export function withLogFields<T>(fields: Record<string, string>, fn: () => T): T {
  const merged = { ...logFieldsOf(context.active()), ...fields };
  return context.with(context.active().setValue(LOG_FIELDS, merged), fn);
}

function logFieldsOf(ctx: Context): Record<string, string> | undefined {
  return ctx.getValue(LOG_FIELDS) as Record<string, string> | undefined;
}

/** What every log line gets from the active context: trace id, span id and the fields set above. */
export function logContext(): Record<string, string> {
  const ctx = context.active();
  const span = trace.getSpan(ctx)?.spanContext();
  const fields = logFieldsOf(ctx) ?? {};
  return span && trace.isSpanContextValid(span)
    ? { traceId: span.traceId, spanId: span.spanId, ...fields }
    : fields;
}
