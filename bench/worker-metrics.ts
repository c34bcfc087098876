/**
 * The Temporal SDK's own view of a rate step, from the worker metrics the payment and notification services
 * serve when *_WORKER_METRICS_PORT is set (run.ts sets it): how often a workflow task found its workflow in
 * the sticky cache (a miss replays its history), how many are cached, how many workflow tasks ran and for how
 * long (local activities run inside them), and how long the queued ones waited (an eager first task is not
 * queued). Counters are read before and after the step; the difference is the step's. The last text each worker served is kept in bench/results/worker-metrics-<name>.txt.
 */
import fs from 'node:fs';
import path from 'node:path';

export const WORKER_METRICS_PORTS = { payment: 19464, notification: 19465 } as const;

export type WorkerName = keyof typeof WORKER_METRICS_PORTS;

/** Sums of every series of the metrics read here, over their labels. */
type Sample = Record<string, number>;

const READ = [
  'temporal_sticky_cache_hit',
  'temporal_sticky_cache_miss',
  'temporal_sticky_cache_size',
  'temporal_workflow_task_execution_latency_sum',
  'temporal_workflow_task_execution_latency_count',
  'temporal_workflow_task_schedule_to_start_latency_sum',
  'temporal_workflow_task_schedule_to_start_latency_count',
];

async function sample(port: number, keepAs?: string): Promise<Sample | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (keepAs) {
      const dir = path.join(__dirname, 'results');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `worker-metrics-${keepAs}.txt`), text);
    }
    const sums: Sample = {};
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (m && READ.includes(m[1]!)) sums[m[1]!] = (sums[m[1]!] ?? 0) + Number(m[2]);
    }
    return sums;
  } catch {
    return undefined; // not served (a run against services started elsewhere)
  }
}

export interface WorkerStep {
  /** Workflow tasks that found their workflow cached, of those that looked (none looked: null). */
  stickyHitRatio: number | null;
  stickyMisses: number;
  /** Workflows in the cache at the end of the step. */
  cacheSize: number;
  /** Workflow tasks run (a payment takes two, an email one), and their mean time, local activities included. */
  tasks: number;
  taskExecutionMsMean: number;
  /** Mean wait of the tasks that went through the queue: a task started eagerly never waits there. */
  taskScheduleToStartMsMean: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Starts a step's window; `close()` gives each worker's figures over it. */
export async function workerMetricsWindow(): Promise<{
  close(): Promise<Partial<Record<WorkerName, WorkerStep>>>;
}> {
  const names = Object.keys(WORKER_METRICS_PORTS) as WorkerName[];
  const before = await Promise.all(names.map((n) => sample(WORKER_METRICS_PORTS[n])));
  return {
    async close() {
      const after = await Promise.all(names.map((n) => sample(WORKER_METRICS_PORTS[n], n)));
      const out: Partial<Record<WorkerName, WorkerStep>> = {};
      names.forEach((name, i) => {
        const [a, b] = [after[i], before[i]];
        if (!a || !b) return;
        const d = (k: string) => (a[k] ?? 0) - (b[k] ?? 0);
        const mean = (k: string) => (d(`${k}_count`) ? (d(`${k}_sum`) / d(`${k}_count`)) * 1000 : 0);
        const looked = d('temporal_sticky_cache_hit') + d('temporal_sticky_cache_miss');
        out[name] = {
          stickyHitRatio: looked ? Math.round((d('temporal_sticky_cache_hit') / looked) * 100) / 100 : null,
          stickyMisses: d('temporal_sticky_cache_miss'),
          cacheSize: a.temporal_sticky_cache_size ?? 0,
          tasks: d('temporal_workflow_task_execution_latency_count'),
          taskExecutionMsMean: round(mean('temporal_workflow_task_execution_latency')),
          taskScheduleToStartMsMean: round(mean('temporal_workflow_task_schedule_to_start_latency')),
        };
      });
      return out;
    },
  };
}
