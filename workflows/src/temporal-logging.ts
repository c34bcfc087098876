import type { Logger } from '@paystream/common/logger';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { Runtime, type Logger as TemporalLogger } from '@temporalio/worker';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
let installed = false;

/** Where the SDK serves its worker metrics for Prometheus: the service's HOST and a port of their own. */
export interface WorkerMetricsAddress {
  host: string;
  port: number;
}

/** host:port, with an IPv6 host (`::`, as HOST may be in a container) in brackets. */
const bindAddress = (host: string, port: number) =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * Temporal's own lines — the SDK's, the Rust core's (forwarded, WARN and up) and the workflow and
 * activity loggers' — through the service's logger, so every line a service writes has one format.
 * With `metrics`, the SDK's worker metrics (sticky cache hits, misses and size, task latencies, slots) are
 * served for Prometheus at that address, beside the service's own /metrics.
 * Once per process, before its first worker connection (the runtime is process-wide).
 */
export function installTemporalLogging(logger: Logger, metrics?: WorkerMetricsAddress): void {
  if (installed) return;
  installed = true;
  const log = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger[PINO_LEVEL[level]]({ temporal: true, ...meta }, message);
  const temporalLogger: TemporalLogger = {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
  Runtime.install({
    logger: temporalLogger,
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
      ...(metrics && {
        metrics: {
          prometheus: { bindAddress: bindAddress(metrics.host, metrics.port), useSecondsForDurations: true },
        },
      }),
    },
  });
}
