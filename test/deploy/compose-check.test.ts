import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { checkCompose, loadCompose, placeholders, type ComposeFile } from '../../scripts/compose-check';

const load = (): ComposeFile =>
  parse(fs.readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;

describe('docker-compose.yml as docker compose loads it (compose-go)', () => {
  it('loads every service, with the observability profile on and off', async () => {
    const plain = await loadCompose([]);
    const all = await loadCompose(['observability']);
    expect(plain).toMatchObject({
      services: expect.arrayContaining(['gateway', 'temporal', 'temporal-schema']),
    });
    expect(all).toMatchObject({ services: expect.arrayContaining(['jaeger', 'grafana', 'prometheus']) });
    if ('services' in plain && 'services' in all)
      expect(all.services.length).toBeGreaterThan(plain.services.length);
  });

  it('refuses what docker compose would refuse: a required secret unset, a key the schema lacks', async () => {
    const { JWT_SECRET: _, ...withoutJwt } = placeholders();
    const unset = await loadCompose([], withoutJwt);
    expect(unset).toEqual({ error: expect.stringContaining('JWT_SECRET') });

    const dir = path.join(__dirname, '../../.cache/compose-check');
    fs.mkdirSync(dir, { recursive: true });
    const broken = path.join(dir, 'docker-compose.broken.yml');
    const text = fs.readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8');
    fs.writeFileSync(broken, text.replace('  mailpit:\n', '  mailpit:\n    restart_policy: always\n'));
    expect(await loadCompose([], placeholders(), broken)).toEqual({
      error: expect.stringContaining('restart_policy'),
    });
  });
});

describe('docker-compose.yml static check', () => {
  it('accepts the committed file', () => {
    expect(checkCompose(load())).toEqual([]);
  });

  it('names each kind of mistake it exists to catch', () => {
    const compose = load();
    const svc = compose.services;
    svc.mailpit!.image = 'axllent/mailpit:latest';
    svc.order!.environment = { ...svc.order!.environment, ORDERS_DB: 'x', KAFKA_BROKERS: 'broker:9092' };
    svc.payment!.depends_on = { temporal: { condition: 'service_healthy' }, ghost: {} };
    svc['stripe-mock']!.ports = ['8080:12111'];
    // The ACL script replaced by one that creates a topic and over-grants.
    svc['kafka-init']!.volumes = [];
    svc['kafka-init']!.command = ['echo order.create', 'acl order Write topic payment.event'];
    svc.order!.environment = { ...svc.order!.environment, KAFKA_PASSWORD: 'hunter2' };
    svc.postgres!.environment = { ...svc.postgres!.environment, USER_DB_PASSWORD: '${USER_DB_PASSWORD:-x}' };
    delete svc.notification;
    svc.gateway!.depends_on = { jaeger: { condition: 'service_started' } };
    svc.user!.environment = { ...svc.user!.environment, JWT_SECRET: '${JWT_SECRET:-changeme}' };
    // The internet-facing gateway handed the Stripe key and the codec keys.
    svc.gateway!.environment = {
      ...svc.gateway!.environment,
      STRIPE_SECRET_KEY: '${STRIPE_SECRET_KEY:-sk_test_paystreamlocal}',
      PAYLOAD_CODEC_KEYS: '${PAYLOAD_CODEC_KEYS:?set}',
    };
    // An image that ships the sources and runs them through tsx, dev dependencies and all.
    const tsxRecipe = '.cache/compose-check/Dockerfile.tsx';
    fs.mkdirSync(path.join(__dirname, '../..', path.dirname(tsxRecipe)), { recursive: true });
    fs.writeFileSync(
      path.join(__dirname, '../..', tsxRecipe),
      'FROM node:20.20-bookworm-slim\nRUN npm ci\nCMD ["node", "--import", "tsx", "services/order/src/main.ts"]\n',
    );
    svc.order!.build = { ...svc.order!.build, dockerfile: tsxRecipe };

    const errors = checkCompose(compose).join('\n');
    expect(errors).toContain('pin axllent/mailpit:latest');
    expect(errors).toContain('env ORDERS_DB is not read by any service');
    expect(errors).toContain('broker:9092 points at broker');
    expect(errors).toContain('depends on unknown service ghost');
    expect(errors).toContain('host port 8080 is also published');
    expect(errors).toContain('topic stripe.events is not created');
    expect(errors).toContain('missing `acl order Write topic order.create`');
    expect(errors).toContain('`acl order Write topic payment.event` is not in kafka-access.ts');
    expect(errors).toContain('services.order: KAFKA_PASSWORD must take its secret from a required variable');
    expect(errors).toContain(
      'services.postgres: USER_DB_PASSWORD must take its secret from a required variable',
    );
    expect(errors).toContain('service notification is missing');
    expect(errors).toContain('depends on jaeger, which runs only with a profile');
    expect(errors).toContain('services.user: JWT_SECRET must be required as ${JWT_SECRET:?…}');
    expect(errors).toContain(
      'services.gateway: holds the secrets JWT_SECRET, PAYLOAD_CODEC_KEYS, SERVICE_TOKEN, STRIPE_SECRET_KEY; it needs exactly JWT_SECRET, SERVICE_TOKEN',
    );
    expect(errors).toContain('prometheus: scrape target notification:8084 is not a compose service');
    expect(errors).toContain('services.order: the image does not run npm run build');
    expect(errors).toContain("services.order: the image's node_modules keep dev dependencies");
    expect(errors).toContain(
      'services.order: the image must run node on services/<name>/dist/main.js, not tsx',
    );
  });
});
