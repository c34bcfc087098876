import { SERVICE_NAMES } from '../../scripts/services';
import { startServices, type ServiceSet } from '../support/services';

/** Boots all five services as real processes and requires every /readyz to report its real dependencies healthy. */
describe('the five services', () => {
  let services: ServiceSet;

  beforeAll(async () => {
    services = await startServices(18080);
  }, 120_000);

  afterAll(async () => {
    await services.stopAll();
  });

  it.each(SERVICE_NAMES)('%s reports ready with every dependency checked', async (name) => {
    const res = await fetch(`${services.adminUrl(name)}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).length).toBeGreaterThan(0);
    for (const status of Object.values(body.checks)) expect(status).toBe('ok');
  });

  it('stops cleanly on SIGTERM', async () => {
    await services.stop('gateway');
    expect(services.get('gateway').child.exitCode).toBe(0);
  });
});
