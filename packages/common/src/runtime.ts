import type { Server, ServerOptions } from 'node:http';
import type { Express } from 'express';
import { loadConfig, type Config } from './config';
import { closeServer, listen, loggableError } from './http';
import { createLogger, type Logger } from './logger';
import { productionProblems } from './production';
import { initTracing, tracing } from './tracing';

/**
 * A service's running parts. Each `part` is started in the order `main` lists it and stopped in the
 * reverse order on SIGINT/SIGTERM — or when a later part fails to start — so consumers leave their
 * group and HTTP servers drain before the connections they use are closed, and tracing (started
 * first) flushes the last spans after everything else.
 */
export interface ServiceRuntime {
  readonly name: string;
  readonly cfg: Config;
  readonly logger: Logger;
  part<T>(what: string, start: () => Promise<T> | T, stop: (value: T) => unknown): Promise<T>;
  /** Stops every part and exits 1 (a supervisor restarts the service). */
  fail(reason: string): void;
}

interface Started {
  what: string;
  stop: () => unknown;
}

/** Runs `main` as the service `name`: parts start in order, stop in reverse; a failed start exits 1. */
export function runService(name: string, main: (svc: ServiceRuntime) => Promise<void>): void {
  const logger = createLogger(name);
  const started: Started[] = [];
  let stopping: Promise<void> | undefined;

  const stopAll = async () => {
    for (const { what, stop } of started.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err: loggableError(err), part: what }, `${name}: stopping ${what} failed`);
      }
    }
  };
  const shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    logger.info({ signal }, `${name} stopping`);
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    stopping = stopAll().finally(() => {
      clearTimeout(force);
      process.exit(code);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const start = async () => {
    // Config is read here, not at import, so a bad value is a logged start failure, not a crash.
    const cfg = loadConfig();
    const refused = productionProblems(cfg, name);
    if (refused.length)
      throw new Error(`${name} refuses to start in production:\n  - ${refused.join('\n  - ')}`);
    const svc: ServiceRuntime = {
      name,
      logger,
      cfg,
      async part(what, start, stop) {
        if (stopping) throw new Error(`${name} is stopping; not starting ${what}`);
        const value = await start();
        if (stopping) {
          // A signal came while it started: the parts already listed are being stopped; stop this one too.
          await stop(value);
          throw new Error(`${name} is stopping; ${what} stopped at once`);
        }
        started.push({ what, stop: () => stop(value) });
        return value;
      },
      fail: (reason) => shutdown(reason, 1),
    };
    await svc.part(
      'tracing',
      () => initTracing(name, cfg.OTEL_EXPORTER_OTLP_ENDPOINT),
      () => tracing().shutdown(),
    );
    await main(svc);
  };
  start().catch((err: unknown) => {
    logger.fatal({ err: loggableError(err) }, `${name} failed to start`);
    shutdown('start failure', 1);
  });
}

// ---------------------------------------------------------------- the parts every kind of service has

/** What a Temporal worker and its connection offer, without importing the native worker here. */
export interface RunnableWorker {
  worker: { run(): Promise<void>; shutdown(): void };
  connection: { close(): Promise<void> };
}

/**
 * Runs a Temporal worker; if it stops on its own, the whole service stops (and is restarted by its supervisor).
 * Returns the worker and its connection: a client on that connection may start workflows eagerly (the first
 * task handed straight to this worker), and parts started after this one are stopped before it closes.
 */
export async function workerPart<W extends RunnableWorker>(
  svc: ServiceRuntime,
  create: () => Promise<W>,
): Promise<W> {
  const { parts } = await svc.part(
    'temporal worker',
    async () => {
      const parts = await create();
      const running = parts.worker.run();
      running.catch((err: unknown) => {
        svc.logger.fatal({ err: loggableError(err) }, `${svc.name} worker stopped`);
        svc.fail('worker stopped');
      });
      return { parts, running };
    },
    async ({ parts, running }) => {
      parts.worker.shutdown();
      await running.catch(() => undefined);
      await parts.connection.close();
    },
  );
  return parts;
}

/** The service's HTTP server, last to start and first to stop (it stops taking requests, then drains). */
export async function httpPart(
  svc: ServiceRuntime,
  app: Express,
  port: number,
  options: { name?: string; server?: ServerOptions } = {},
): Promise<Server> {
  const server = await svc.part(
    options.name ?? 'http',
    () => listen(app, port, svc.cfg.HOST, options.server),
    closeServer,
  );
  svc.logger.info({ port }, `${svc.name} service listening`);
  return server;
}
