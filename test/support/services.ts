import fs from 'node:fs';
import path from 'node:path';
import {
  SERVICE_NAMES,
  startService,
  stopService,
  waitReady,
  type RunningService,
  type ServiceName,
} from '../../scripts/services';

export interface ServiceSet {
  env: NodeJS.ProcessEnv;
  running: RunningService[];
  output: string[];
  url: (name: ServiceName) => string;
  /** Where its /metrics and /readyz answer (the gateway's admin port; the service's own for the rest). */
  adminUrl: (name: ServiceName) => string;
  get: (name: ServiceName) => RunningService;
  /** Starts (or restarts) one service and waits until it is ready. */
  start: (name: ServiceName) => Promise<RunningService>;
  stop: (name: ServiceName, signal?: NodeJS.Signals) => Promise<void>;
  stopAll: () => Promise<void>;
}

/**
 * The five services as real processes on ports basePort..basePort+4 (so a running `npm start` is not
 * disturbed), talking to the real local stack.
 */
export async function startServices(basePort: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceSet> {
  const port = (i: number) => String(basePort + i);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    GATEWAY_PORT: port(0),
    GATEWAY_ADMIN_PORT: String(basePort + 1000), // the next set's ports follow this one's
    USER_PORT: port(1),
    ORDER_PORT: port(2),
    PAYMENT_PORT: port(3),
    NOTIFICATION_PORT: port(4),
    USER_SERVICE_URL: `http://127.0.0.1:${port(1)}`,
    ORDER_SERVICE_URL: `http://127.0.0.1:${port(2)}`,
    PAYMENT_SERVICE_URL: `http://127.0.0.1:${port(3)}`,
    NOTIFICATION_SERVICE_URL: `http://127.0.0.1:${port(4)}`,
    ...extraEnv,
  };
  const output: string[] = [];
  // PAYSTREAM_SERVICE_LOGS=<dir>: each service's lines also go to <dir>/<service>.log, to read a failure at leisure.
  const logDir = process.env.PAYSTREAM_SERVICE_LOGS;
  if (logDir) fs.mkdirSync(logDir, { recursive: true });
  const running = new Map<ServiceName, RunningService>();
  const start = async (name: ServiceName) => {
    const service = startService(name, env, (line) => {
      output.push(`${name}: ${line}`);
      if (logDir) fs.appendFileSync(path.join(logDir, `${name}.log`), `${line}\n`);
    });
    running.set(name, service);
    try {
      await waitReady(service, 90_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${output.slice(-30).join('\n')}`, { cause: err });
    }
    return service;
  };
  const set: ServiceSet = {
    env,
    output,
    get running() {
      return [...running.values()];
    },
    url: (name) => `http://127.0.0.1:${set.get(name).port}`,
    adminUrl: (name) => `http://127.0.0.1:${set.get(name).adminPort}`,
    get: (name) => {
      const s = running.get(name);
      if (!s) throw new Error(`${name} is not running`);
      return s;
    },
    start,
    stop: (name, signal) => stopService(set.get(name), signal),
    stopAll: () => Promise.all([...running.values()].map((s) => stopService(s))).then(() => undefined),
  };
  try {
    await Promise.all(SERVICE_NAMES.map(start));
  } catch (err) {
    await set.stopAll();
    throw err;
  }
  return set;
}
