/**
 * Starts the five services as child processes and waits until each one's /readyz answers 200. Used by
 * `npm start`, the benchmark and the end-to-end tests. They run what the image runs: node on the build
 * output (`npm run build`); PAYSTREAM_RUN_FROM=source runs the TypeScript sources through tsx instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@paystream/common/config';

const ROOT = path.resolve(__dirname, '..');

/**
 * A service's V8 flags, as its image runs it (deploy/node-flags/<service>: one place for the image, the
 * chart and this launcher). The gateway keeps a small young generation: a proxy holds little between requests,
 * and the default one is most of its idle memory.
 */
export function nodeFlags(name: ServiceName): string[] {
  return fs
    .readFileSync(path.join(ROOT, 'deploy', 'node-flags', name), 'utf8')
    .trim()
    .split(/\s+/);
}

export const SERVICE_NAMES = ['user', 'order', 'payment', 'notification', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function servicePort(name: ServiceName, env: NodeJS.ProcessEnv = process.env): number {
  const cfg = loadConfig(env);
  const ports: Record<ServiceName, number> = {
    gateway: cfg.GATEWAY_PORT,
    user: cfg.USER_PORT,
    order: cfg.ORDER_PORT,
    payment: cfg.PAYMENT_PORT,
    notification: cfg.NOTIFICATION_PORT,
  };
  return ports[name];
}

export interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  port: number;
  /** Where its /readyz and /metrics answer: its own port, or the gateway's admin port. */
  adminPort: number;
}

export function startService(
  name: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
  onLine?: (line: string) => void,
): RunningService {
  // PAYSTREAM_CPU_PROFILE_DIR=dir: each service writes a V8 CPU profile there when it stops (bench profiling).
  const profileDir = env.PAYSTREAM_CPU_PROFILE_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : [];
  const entry =
    env.PAYSTREAM_RUN_FROM === 'source'
      ? ['--import', 'tsx', path.join(ROOT, 'services', name, 'src', 'main.ts')]
      : ['--conditions=built', path.join(ROOT, 'services', name, 'dist', 'main.js')];
  const child = spawn(process.execPath, [...nodeFlags(name), ...profile, ...entry], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
  }
  const port = servicePort(name, env);
  return { name, child, port, adminPort: name === 'gateway' ? loadConfig(env).GATEWAY_ADMIN_PORT : port };
}

export async function waitReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null)
      throw new Error(`${service.name} exited with ${service.child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${service.adminPort}/readyz`, {
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.name} not ready after ${timeoutMs / 1000}s: ${last}`);
}

export async function stopService(
  service: RunningService,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => service.child.once('exit', () => resolve()));
  service.child.kill(signal);
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 12_000);
  await exited;
  clearTimeout(timer);
}
