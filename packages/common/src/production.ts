import { codecKeysFrom, parseCodecKeys, type CodecKey } from './codec-keys';
import { DEV_PAYLOAD_CODEC_KEYS, devKafkaPassword, type Config } from './config';
import { temporalConnectionOptions } from './temporal-options';

/**
 * What a service may not start with when NODE_ENV=production: a secret shipped in this repository (the
 * development defaults below, the values older compose files defaulted to, anything on the list), one
 * too short or too uniform to be a secret, or a development stand-in for a real dependency (a fake
 * Stripe, the local database password). Each service is checked for the secrets it actually holds, so
 * none needs another's (the notifier never holds a Stripe key).
 */
export const SHIPPED_SECRETS: ReadonlySet<string> = new Set([
  'dev-only-jwt-secret-change-me-in-production-0123456789',
  'dev-only-service-token-change-me',
  'dev-only-stripe-webhook-secret',
  'compose-local-jwt-secret-replace-before-any-real-use',
  'compose-local-service-token-replace-me',
  'compose-local-stripe-webhook-secret',
  'sk_test_paystreamlocal',
  'paystream',
]);

type Secret =
  | 'JWT_SECRET'
  | 'SERVICE_TOKEN'
  | 'STRIPE_SECRET_KEY'
  | 'STRIPE_WEBHOOK_SECRET'
  | 'DATABASE'
  | 'PAYLOAD_CODEC_KEYS'
  | 'KAFKA'
  | 'TEMPORAL';

/** The secrets that are one variable each (the database and Kafka ones are a variable per service anyway). */
export const ONE_VARIABLE_SECRETS = [
  'JWT_SECRET',
  'SERVICE_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'PAYLOAD_CODEC_KEYS',
] as const satisfies readonly Secret[];

/** The secrets each service holds (compose and the Helm chart hand each service these and no other). */
export const SERVICE_SECRETS: Record<string, readonly Secret[]> = {
  gateway: ['JWT_SECRET', 'SERVICE_TOKEN'],
  user: ['JWT_SECRET', 'SERVICE_TOKEN', 'STRIPE_SECRET_KEY', 'DATABASE'],
  order: ['SERVICE_TOKEN', 'DATABASE', 'KAFKA'],
  payment: [
    'SERVICE_TOKEN',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'PAYLOAD_CODEC_KEYS',
    'KAFKA',
    'TEMPORAL',
    'DATABASE',
  ],
  notification: ['SERVICE_TOKEN', 'PAYLOAD_CODEC_KEYS', 'KAFKA', 'TEMPORAL', 'DATABASE'],
};

/** At least 32 characters and not one repeated pattern: `openssl rand -hex 32` passes, `aaaa…` does not. */
function weak(value: string): boolean {
  return value.length < 32 || new Set(value).size < 12;
}

function databasePassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/** The codec keys (from the env or the file): the shipped key's bytes under any id, or a uniform key, would let
 * anyone read the histories. */
function codecKeyProblems(cfg: Config): string[] {
  let keys: CodecKey[];
  try {
    keys = codecKeysFrom(cfg);
  } catch (err) {
    return [`PAYLOAD_CODEC_KEYS: ${(err as Error).message}`];
  }
  const shipped = parseCodecKeys(DEV_PAYLOAD_CODEC_KEYS).map((k) => k.key);
  const problems: string[] = [];
  for (const { id, key } of keys) {
    if (shipped.some((s) => s.equals(key)))
      problems.push(`PAYLOAD_CODEC_KEYS: key ${id} is the development key shipped in the repository`);
    else if (new Set(key).size < 16)
      problems.push(`PAYLOAD_CODEC_KEYS: key ${id} is too uniform to be random`);
  }
  return problems;
}

/** Why this service must not start in production; empty when it may (or when not in production). */
export function productionProblems(
  cfg: Config,
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (cfg.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  const secret = (key: string, value: string) => {
    if (SHIPPED_SECRETS.has(value) || value.startsWith('dev-only-') || value.startsWith('compose-local-'))
      problems.push(`${key} is a value shipped in the Paystream repository; set your own`);
    else if (weak(value))
      problems.push(`${key} is too short or too uniform to be a secret (≥ 32 random characters)`);
  };
  for (const need of SERVICE_SECRETS[service] ?? Object.values(SERVICE_SECRETS).flat()) {
    if (need === 'JWT_SECRET') secret('JWT_SECRET', cfg.JWT_SECRET);
    if (need === 'SERVICE_TOKEN') secret('SERVICE_TOKEN', cfg.SERVICE_TOKEN);
    if (need === 'STRIPE_WEBHOOK_SECRET') {
      secret('STRIPE_WEBHOOK_SECRET', cfg.STRIPE_WEBHOOK_SECRET);
      if (!cfg.STRIPE_WEBHOOK_SECRET.startsWith('whsec_'))
        problems.push("STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret from Stripe (whsec_…)");
    }
    if (need === 'STRIPE_SECRET_KEY') {
      if (!/^(sk|rk)_(live|test)_[A-Za-z0-9]{20,}$/.test(cfg.STRIPE_SECRET_KEY))
        problems.push(
          'STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_… or rk_…, live or test)',
        );
      // A fake Stripe in production would take "payments" that never reach a bank.
      if (env.STRIPE_API_BASE !== undefined)
        problems.push('STRIPE_API_BASE must not be set in production: Stripe is api.stripe.com');
    }
    if (need === 'PAYLOAD_CODEC_KEYS') problems.push(...codecKeyProblems(cfg));
    if (need === 'KAFKA') {
      // Without SASL any client writes any topic (payment.event included); without TLS every event is readable.
      if (cfg.KAFKA_SASL_MECHANISM === 'none')
        problems.push('KAFKA_SASL_MECHANISM must not be none: each service authenticates to Kafka (SCRAM)');
      else secret('KAFKA_PASSWORD', cfg.KAFKA_PASSWORD ?? devKafkaPassword(cfg.KAFKA_USERNAME ?? service));
      if (!cfg.KAFKA_SSL) problems.push('KAFKA_SSL must be on: Kafka traffic is encrypted in production');
    }
    if (need === 'TEMPORAL' && !temporalConnectionOptions(cfg).tls)
      problems.push(
        'TEMPORAL_TLS must be on: the Temporal connection needs TLS, mTLS or an API key in production',
      );
    if (need === 'DATABASE') {
      const url = {
        order: cfg.ORDER_DATABASE_URL,
        payment: cfg.PAYMENT_DATABASE_URL,
        notification: cfg.NOTIFICATION_DATABASE_URL,
        user: cfg.USER_DATABASE_URL,
      }[service as 'order' | 'payment' | 'notification' | 'user'];
      const password = databasePassword(url);
      if (!password || SHIPPED_SECRETS.has(password) || password.startsWith('dev-only-'))
        problems.push(`the ${service} database URL uses no password or the one shipped in the repository`);
      const sslmode = new URL(url).searchParams.get('sslmode');
      if (!['require', 'verify-ca', 'verify-full'].includes(sslmode ?? ''))
        problems.push(`the ${service} database URL must ask for TLS (sslmode=verify-full, or require)`);
    }
  }
  return problems;
}
