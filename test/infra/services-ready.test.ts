import {
  SERVICE_NAMES,
  startService,
  stopService,
  waitReady,
  type RunningService,
} from '../../scripts/services';

/**
 * Boots all five services as real processes (on ports of their own, so a running `npm start` is not
 * disturbed) and requires every /readyz to report its real dependencies healthy.
 */
describe('the five services', () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    GATEWAY_PORT: '18080',
    USER_PORT: '18081',
    ORDER_PORT: '18082',
    PAYMENT_PORT: '18083',
    NOTIFICATION_PORT: '18084',
    USER_SERVICE_URL: 'http://127.0.0.1:18081',
    ORDER_SERVICE_URL: 'http://127.0.0.1:18082',
  };
  const running: RunningService[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    for (const name of SERVICE_NAMES)
      running.push(startService(name, env, (line) => output.push(`${name}: ${line}`)));
    try {
      await Promise.all(running.map((s) => waitReady(s, 90_000)));
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${output.slice(-30).join('\n')}`);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((s) => stopService(s)));
  });

  it.each(SERVICE_NAMES)('%s reports ready with every dependency checked', async (name) => {
    const service = running.find((s) => s.name === name)!;
    const res = await fetch(`http://127.0.0.1:${service.port}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).length).toBeGreaterThan(0);
    for (const status of Object.values(body.checks)) expect(status).toBe('ok');
  });

  it('stops cleanly on SIGTERM', async () => {
    const service = running.find((s) => s.name === 'gateway')!;
    await stopService(service);
    expect(service.child.exitCode).toBe(0);
  });
});
