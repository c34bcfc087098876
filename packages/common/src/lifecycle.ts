import type { Logger } from './logger';
import { loadConfig } from './config';
import { initTracing, tracing } from './tracing';

/**
 * Starts tracing (OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set), runs a service's `start`,
 * then waits for SIGINT/SIGTERM and calls its `stop` once, so consumers leave their group and HTTP
 * servers drain before the process exits; the last spans are flushed after `stop`.
 */
export function runMain(name: string, logger: Logger, start: () => Promise<() => Promise<void>>): void {
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping`);
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    (stop ? stop() : Promise.resolve())
      .then(() => tracing().shutdown())
      .then(() => {
        clearTimeout(force);
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, `${name} stop failed`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  Promise.resolve()
    .then(() => initTracing(name, loadConfig().OTEL_EXPORTER_OTLP_ENDPOINT))
    .then(start)
    .then((s) => {
      stop = s;
      if (stopping) void s().finally(() => process.exit(0));
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, `${name} failed to start`);
      process.exit(1);
    });
}
