/**
 * `npm start`: the real local stack, then the five services, then the gateway URL.
 * Ctrl-C stops the services and exactly the stack parts this command started.
 */
import { spawn } from 'node:child_process';
import { prettyFactory } from 'pino-pretty';
import { down, up } from '../stack';
import { SERVICE_NAMES, startService, stopService, waitReady, type RunningService } from './services';
import { OPERATOR_SCOPES } from '@paystream/common/operator';

const COLORS: Record<string, string> = {
  gateway: '\x1b[36m',
  user: '\x1b[32m',
  order: '\x1b[33m',
  payment: '\x1b[35m',
  notification: '\x1b[34m',
};

/**
 * On a terminal, each service's JSON lines read as pino's pretty printer shows them (Temporal's own lines
 * come through the same logger, see installTemporalLogging); piped or redirected, they stay JSON.
 */
function lineFormatter(): (line: string) => string {
  if (!process.stdout.isTTY) return (line) => line;
  const pretty = prettyFactory({
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,name',
    singleLine: true,
  });
  return (line) => (line.startsWith('{') ? pretty(line).trimEnd() : line);
}

async function main(): Promise<void> {
  const startedStack = await up();
  const running: RunningService[] = [];
  // The Web UI's codec server: payloads are encrypted, an operator on this machine reads them decoded.
  const codec = spawn(process.execPath, [require.resolve('tsx/cli'), 'temporal/codec-server.ts'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\n[start] stopping services…');
    codec.kill('SIGTERM');
    await Promise.all(running.map((s) => stopService(s)));
    if (process.env.PAYSTREAM_KEEP_STACK !== '1') await down(startedStack);
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const format = lineFormatter();
  // Reconciliation every 30 s on the laptop (production defaults to 5 min), open payments looked at after 60 s.
  const env = {
    RECONCILE_INTERVAL_SECONDS: '30',
    RECONCILE_STALE_SECONDS: '60',
    // The gateway's limits in the stack's Redis, as a deployment with replicas keeps them.
    RATE_LIMIT_REDIS_URL: `redis://127.0.0.1:${process.env.REDIS_PORT ?? 6379}`,
    ...process.env,
  };
  for (const name of SERVICE_NAMES) {
    const color = process.stdout.isTTY ? (COLORS[name] ?? '') : '';
    const reset = color ? '\x1b[0m' : '';
    const service = startService(name, env, (line) =>
      console.log(`${color}${name.padEnd(12)}${reset} ${format(line)}`),
    );
    service.child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`[start] ${name} exited (${code ?? signal}); stopping everything`);
        void stopAll(1);
      }
    });
    running.push(service);
  }
  await Promise.all(running.map((s) => waitReady(s)));
  const gateway = running.find((s) => s.name === 'gateway');
  console.log(`\n[start] all five services are ready.`);
  const gatewayUrl = `http://127.0.0.1:${gateway?.port}`;
  console.log(`[start] gateway:          ${gatewayUrl}`);
  console.log(`[start] API docs:         ${gatewayUrl}/docs (OpenAPI 3.1: ${gatewayUrl}/openapi.json)`);
  console.log(`[start] demo checkout:    ${gatewayUrl}/demo`);
  console.log(
    `[start] operator console: ${gatewayUrl}/console — sign in with an API key, made (and shown once) by`,
  );
  console.log(
    `[start]                   npm run ops -- keys create --name "me" --scopes ${OPERATOR_SCOPES.join(',')}`,
  );
  console.log(
    `[start] Temporal Web UI:  http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233} (payloads decoded by the codec server)`,
  );
  console.log(`[start] mail (Mailpit):   http://127.0.0.1:${process.env.MAIL_API_PORT ?? 8025} (the inbox)`);
  console.log(
    `[start] reconciliation:   every ${env.RECONCILE_INTERVAL_SECONDS} s (Web UI → Schedules); drift: the console's Drift tab`,
  );
  console.log('[start] Ctrl-C stops everything.\n');
}

main().catch((err: unknown) => {
  console.error(`[start] ${(err as Error).message}`);
  process.exit(1);
});
