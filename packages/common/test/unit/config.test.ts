import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cancelTimings, CONFIG_KEYS, loadConfig, stripeClientOptions } from '../../src/config';
import { temporalConnectionOptions } from '../../src/temporal-options';

// loadConfig reads only the object it is given: no test here depends on the shell's environment.
describe('loadConfig', () => {
  it('has a default for everything, matching the local stack', () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({
      NODE_ENV: 'development',
      GATEWAY_PORT: 8080,
      USER_PORT: 8081,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      CORS_ORIGINS: [],
    });
    expect(cfg.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    // Each service as its own role, never the administrator.
    expect(cfg.USER_DATABASE_URL).toBe(
      'postgres://user_service:dev-only-db-user_service@127.0.0.1:5432/users',
    );
    expect(cfg.ORDER_DATABASE_URL).toBe(
      'postgres://order_service:dev-only-db-order_service@127.0.0.1:5432/orders',
    );
  });

  it('coerces numbers and splits lists', () => {
    const cfg = loadConfig({
      USER_PORT: '9001',
      GATEWAY_RATE_LIMIT: '30',
      KAFKA_BROKERS: ' k1:9092, k2:9092 ,',
      CORS_ORIGINS: 'https://app.example.com,https://admin.example.com',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    });
    expect(cfg.USER_PORT).toBe(9001);
    expect(cfg.GATEWAY_RATE_LIMIT).toBe(30);
    expect(cfg.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9092']);
    expect(cfg.CORS_ORIGINS).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(cfg.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('derives each service database from DATABASE_URL unless it is set', () => {
    const cfg = loadConfig({
      DATABASE_URL: 'postgres://u:p@db.internal:6432/postgres?sslmode=require',
      ORDER_DATABASE_URL: 'postgres://o:p@orders.internal/orders',
    });
    expect(cfg.USER_DATABASE_URL).toBe(
      'postgres://user_service:dev-only-db-user_service@db.internal:6432/users?sslmode=require',
    );
    expect(cfg.ORDER_DATABASE_URL).toBe('postgres://o:p@orders.internal/orders');
  });

  it.each([
    ['USER_PORT', '70000'],
    ['USER_PORT', 'eighty'],
    ['GATEWAY_PORT', '0'],
    ['GATEWAY_RATE_LIMIT', '-1'],
    ['LOG_LEVEL', 'verbose'],
    ['DATABASE_URL', 'not a url'],
    ['JWT_SECRET', 'too-short'],
  ])('refuses %s=%s, naming the variable', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${key}: `));
  });

  it('lists every invalid variable at once', () => {
    expect(() => loadConfig({ USER_PORT: 'x', ORDER_PORT: 'y' })).toThrow(/USER_PORT: .*\n {2}ORDER_PORT: /s);
  });

  it('names every key it reads', () => {
    expect(CONFIG_KEYS).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'USER_PORT', 'JWT_SECRET', 'KAFKA_BROKERS']),
    );
  });
});

describe('stripeClientOptions', () => {
  const saved = process.env.STRIPE_API_BASE;
  beforeEach(() => delete process.env.STRIPE_API_BASE);
  afterEach(() =>
    saved === undefined ? delete process.env.STRIPE_API_BASE : (process.env.STRIPE_API_BASE = saved),
  );

  it('points the SDK at the local fake by default', () => {
    expect(stripeClientOptions(loadConfig({}))).toEqual({ host: '127.0.0.1', port: 8420, protocol: 'http' });
    const https = loadConfig({ STRIPE_API_BASE: 'https://stripe-mock.internal' });
    expect(stripeClientOptions(https)).toEqual({
      host: 'stripe-mock.internal',
      port: 443,
      protocol: 'https',
    });
  });

  it('uses real Stripe for a real-looking key, unless STRIPE_API_BASE is set explicitly', () => {
    const cfg = loadConfig({ STRIPE_SECRET_KEY: `sk_test_${'a1'.repeat(12)}` });
    expect(stripeClientOptions(cfg)).toEqual({});
    process.env.STRIPE_API_BASE = 'http://127.0.0.1:8420';
    expect(stripeClientOptions(cfg)).toMatchObject({ port: 8420 });
  });
});

describe('temporalConnectionOptions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
  const file = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };

  it('is a bare address for the local dev server', () => {
    expect(temporalConnectionOptions(loadConfig({}))).toEqual({ address: '127.0.0.1:7233' });
  });

  it('reads the CA and the client certificate pair for mTLS', () => {
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_CA_FILE: file('ca.pem', 'CA'),
        TEMPORAL_TLS_CERT_FILE: file('client.pem', 'CRT'),
        TEMPORAL_TLS_KEY_FILE: file('client.key', 'KEY'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      }),
    );
    expect(options).toEqual({
      address: 'temporal.internal:7233',
      tls: {
        serverNameOverride: 'temporal',
        serverRootCACertificate: Buffer.from('CA'),
        clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') },
      },
    });
  });

  it('turns TLS on for an API key (Temporal Cloud) and refuses half a certificate pair', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'key' }))).toMatchObject({
      tls: {},
      apiKey: 'key',
    });
    expect(() =>
      temporalConnectionOptions(loadConfig({ TEMPORAL_TLS_CERT_FILE: file('only.pem', 'CRT') })),
    ).toThrow(/go together/);
  });
});

describe('cancelTimings', () => {
  it.each([2_000, 10_000, 60_000])(
    'with a gateway timeout of %i ms, a cancel still pending answers 202 before the gateway gives up',
    (gatewayMs) => {
      const { paymentWaitMs, orderCallMs } = cancelTimings(
        loadConfig({ GATEWAY_TIMEOUT_MS: String(gatewayMs) }),
      );
      // The payment service answers after its wait; the order service waits longer for that; the gateway longer still.
      expect(paymentWaitMs).toBeLessThan(orderCallMs);
      expect(orderCallMs).toBeLessThan(gatewayMs);
      expect(orderCallMs - paymentWaitMs).toBeGreaterThanOrEqual(gatewayMs / 4);
    },
  );
});
