import { DEV_PAYLOAD_CODEC_KEYS, loadConfig } from '../../src/config';
import { productionProblems, SERVICE_SECRETS } from '../../src/production';

const random = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(i * 7 + 3) % 62],
  ).join('');

/** What a real production deployment sets: its own secrets, a live key, a real database password. */
const production = {
  NODE_ENV: 'production',
  JWT_SECRET: random(48),
  SERVICE_TOKEN: random(40),
  STRIPE_WEBHOOK_SECRET: `whsec_${random(32)}`,
  STRIPE_SECRET_KEY: `sk_live_${random(24)}`,
  USER_DATABASE_URL:
    'postgres://user_service:Zq8-long-db-password@db.internal:5432/users?sslmode=verify-full',
  ORDER_DATABASE_URL:
    'postgres://order_service:Q7x-long-db-password@db.internal:5432/orders?sslmode=verify-full',
  PAYMENT_DATABASE_URL:
    'postgres://payment_service:P4y-long-db-password@db.internal:5432/payments?sslmode=verify-full',
  NOTIFICATION_DATABASE_URL:
    'postgres://notification_service:N0t-long-db-password@db.internal:5432/notifications?sslmode=verify-full',
  KAFKA_PASSWORD: random(36),
  KAFKA_SSL: 'true',
  TEMPORAL_TLS: 'true',
  PAYLOAD_CODEC_KEYS: `2026-11:${Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)).toString('base64')}`,
};
const problemsOf = (service: string, env: Record<string, string>) =>
  productionProblems(loadConfig(env), service, env);

describe('productionProblems', () => {
  it('lets every service start with its own secrets', () => {
    for (const service of Object.keys(SERVICE_SECRETS)) expect(problemsOf(service, production)).toEqual([]);
  });

  it('checks nothing outside production (the laptop run needs no set-up)', () => {
    expect(problemsOf('payment', {})).toEqual([]);
  });

  it.each(Object.keys(SERVICE_SECRETS))('refuses %s with the development defaults', (service) => {
    const problems = problemsOf(service, { NODE_ENV: 'production' });
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/shipped|must be|must ask|too short/);
  });

  it.each([
    ['JWT_SECRET', 'compose-local-jwt-secret-replace-before-any-real-use', /shipped/],
    ['JWT_SECRET', 'dev-only-jwt-secret-change-me-in-production-0123456789', /shipped/],
    ['JWT_SECRET', 'a'.repeat(64), /too uniform/],
    ['SERVICE_TOKEN', 'short-but-16-chars', /too short/],
    ['STRIPE_WEBHOOK_SECRET', random(40), /whsec_/],
    ['STRIPE_SECRET_KEY', 'sk_test_paystreamlocal', /Stripe secret or restricted key/],
    ['STRIPE_API_BASE', 'http://localstripe:8420', /STRIPE_API_BASE must not be set/],
    [
      'ORDER_DATABASE_URL',
      'postgres://paystream:paystream@db:5432/orders?sslmode=require',
      /database URL uses/,
    ],
    ['USER_DATABASE_URL', 'postgres://user_service:Zq8-long-db-password@db:5432/users', /must ask for TLS/],
    [
      'PAYLOAD_CODEC_KEYS',
      `k2:${production.PAYLOAD_CODEC_KEYS.split(':')[1]},${DEV_PAYLOAD_CODEC_KEYS}`,
      /development key/,
    ],
    // The shipped key's bytes under another id are still the shipped key; a bare key is not echoed.
    ['PAYLOAD_CODEC_KEYS', `k1:${DEV_PAYLOAD_CODEC_KEYS.split(':')[1]}`, /key k1 is the development key/],
    ['PAYLOAD_CODEC_KEYS', `k1:${Buffer.alloc(32, 1).toString('base64')}`, /too uniform/],
    ['PAYLOAD_CODEC_KEYS', random(64), /not `id:base64`/],
    ['KAFKA_PASSWORD', 'dev-only-kafka-order', /KAFKA_PASSWORD is a value shipped/],
    ['KAFKA_PASSWORD', 'hunter2', /KAFKA_PASSWORD is too short/],
    ['KAFKA_SASL_MECHANISM', 'none', /KAFKA_SASL_MECHANISM must not be none/],
    ['KAFKA_SSL', 'false', /KAFKA_SSL must be on/],
    ['TEMPORAL_TLS', 'false', /TEMPORAL_TLS must be on/],
  ])('refuses %s=%s', (key, value, message) => {
    const problems = ['gateway', 'user', 'order', 'payment', 'notification'].flatMap((s) =>
      problemsOf(s, { ...production, [key]: value }),
    );
    expect(problems.join('\n')).toMatch(message);
  });

  it('asks each service only for the secrets it holds: the notifier never needs a Stripe key', () => {
    const env = {
      ...production,
      STRIPE_SECRET_KEY: 'sk_test_paystreamlocal',
      STRIPE_WEBHOOK_SECRET: 'x'.repeat(16),
    };
    expect(problemsOf('notification', env)).toEqual([]);
    expect(problemsOf('gateway', env)).toEqual([]);
    expect(problemsOf('payment', env).length).toBe(3);
    // An API key (Temporal Cloud) is TLS too.
    expect(
      problemsOf('payment', { ...production, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: random(40) }),
    ).toEqual([]);
    expect(problemsOf('gateway', { ...env, PAYLOAD_CODEC_KEYS: loadConfig({}).PAYLOAD_CODEC_KEYS })).toEqual(
      [],
    );
  });
});
