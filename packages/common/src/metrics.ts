import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';

/**
 * Prometheus metrics, one registry per process, served at GET /metrics by every service.
 * Process metrics come from prom-client's defaults; the rest are the ones an operator of Paystream
 * watches of every service: request latency by route, Kafka traffic, workflow starts, Stripe answers.
 * A service's own metrics live in that service and register here.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const metrics = {
  httpDuration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  kafkaMessages: new Counter({
    name: 'kafka_messages_total',
    help: 'Kafka messages by topic, direction (consumed | produced) and result (ok | invalid | failed | poisoned: parked after failing again and again)',
    labelNames: ['topic', 'direction', 'result'] as const,
    registers: [registry],
  }),
  workflowStarts: new Counter({
    name: 'workflow_starts_total',
    help: 'Temporal workflow starts by workflow and result (started | duplicate)',
    labelNames: ['workflow', 'result'] as const,
    registers: [registry],
  }),
  workflowEagerStarts: new Counter({
    name: 'workflow_eager_starts_total',
    help: 'Workflow starts whose first task the server handed straight to this process’ worker (eager start)',
    labelNames: ['workflow'] as const,
    registers: [registry],
  }),
  stripeResponses: new Counter({
    name: 'stripe_responses_total',
    help: "Stripe API answers by status class (2xx | 4xx | 5xx); network failures show as the activities' retries",
    labelNames: ['status'] as const,
    registers: [registry],
  }),
};

/** A gauge whose value is read when Prometheus scrapes (e.g. the outbox backlog from Postgres). */
export function scrapedGauge(name: string, help: string, read: () => Promise<number>): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read().catch(() => -1));
    },
  });
}

export const metricsHandler: RequestHandler = async (_req, res) => {
  res.type(registry.contentType).send(await registry.metrics());
};
