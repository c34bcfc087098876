import { z } from 'zod';

/**
 * One place that reads the environment. Every setting has a default that matches the local stack
 * (stack/), so `npm start` works with no .env file; production overrides by env.
 */
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const url = (fallback: string) => z.string().url().default(fallback);
/** `true`/`1` or `false`/`0`/unset. */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

/** The development codec key: shipped in this repository, so production refuses its bytes under any id. */
export const DEV_PAYLOAD_CODEC_KEYS = 'dev-only-1:/peBCGb+66QpZTTixvNHpFsW1mm8NRElETV8XbMEvhg=';

const schema = z.object({
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Interface the HTTP servers bind; 0.0.0.0 in containers. */
  HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: port(8080),
  USER_PORT: port(8081),
  ORDER_PORT: port(8082),
  PAYMENT_PORT: port(8083),
  NOTIFICATION_PORT: port(8084),
  /** Gateway: its own /metrics, /readyz and /healthz, for the orchestrator and Prometheus only (never public). */
  GATEWAY_ADMIN_PORT: port(9080),
  /**
   * Payment and notification: where the Temporal SDK serves its worker metrics for Prometheus (sticky cache,
   * task latencies, slots); 0: not served. The bench turns them on to print the worker's side of a run.
   */
  PAYMENT_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  NOTIFICATION_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Gateway: requests per minute per client (user id, or address before sign-in). */
  GATEWAY_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  /** Gateway: requests with a missing or invalid token a client may send per minute before 429 (no HMAC then). */
  GATEWAY_INVALID_TOKENS_PER_MINUTE: z.coerce.number().int().positive().default(30),
  /** Gateway: POST /webhooks/stripe per minute per client address (Stripe sends from a few addresses). */
  GATEWAY_WEBHOOK_RATE_LIMIT: z.coerce.number().int().positive().default(1200),
  /** Gateway: requests one client may have in flight at once (slow ones included); more are 429. */
  GATEWAY_CONCURRENT_PER_CLIENT: z.coerce.number().int().positive().default(32),
  /** Gateway: how long a request's headers, and its body, may take to arrive. */
  GATEWAY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  GATEWAY_BODY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  /** Gateway: a body slower than this on average (after its first second) is cut off with 408. */
  GATEWAY_MIN_BODY_BYTES_PER_SECOND: z.coerce.number().int().min(1).default(1024),
  /**
   * Where the gateway's rate-limit buckets live: a Valkey or Redis URL shared by its replicas, so a limit holds
   * across them; empty: each replica's memory (one replica, or a laptop). Unreachable: limits fail open, counted.
   */
  RATE_LIMIT_REDIS_URL: z.string().default(''),
  /** The local stack's Redis (stack/servers/redis.ts), which `./paystream start` points the gateway at. */
  REDIS_PORT: port(6379),
  /**
   * User service, per client address in 15 minutes: sign-ups, and sign-in attempts over all accounts (per
   * account and client it is 5, fixed). Test harnesses raise them: every test client is 127.0.0.1.
   */
  SIGNUPS_PER_CLIENT: z.coerce.number().int().positive().default(10),
  SIGNINS_PER_CLIENT: z.coerce.number().int().positive().default(50),
  /** Cards added per client address in 15 minutes (per user it is 5): card testing tries many. */
  CARDS_PER_CLIENT: z.coerce.number().int().positive().default(20),
  /** SetupIntents asked per client address in 15 minutes (per user it is 10; an open one is returned again). */
  SETUP_INTENTS_PER_CLIENT: z.coerce.number().int().positive().default(30),
  /** Password-reset links asked per client address in 15 minutes (per account it is 3). */
  PASSWORD_RESETS_PER_CLIENT: z.coerce.number().int().positive().default(10),
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Gateway: how long a verified API key is remembered (a revoked key stops working within this). */
  GATEWAY_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  GATEWAY_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /**
   * Gateway: the proxies in front of it whose X-Forwarded-For it believes (CIDRs, comma separated: the ingress
   * controller's pod range, a load balancer's). None by default: the TCP peer is the client.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
          error: 'TRUSTED_PROXIES: each entry is an address or a CIDR (10.0.0.0/8, fd00::/8)',
        }),
      ),
    ),
  /** Browser origins allowed by CORS, comma separated; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  USER_SERVICE_URL: url('http://127.0.0.1:8081'),
  ORDER_SERVICE_URL: url('http://127.0.0.1:8082'),
  /** The gateway forwards Stripe's webhooks and the operator's money routes here. */
  PAYMENT_SERVICE_URL: url('http://127.0.0.1:8083'),
  /** The gateway forwards the operator's DLQ and webhook routes here; the order service asks it for an order's story. */
  NOTIFICATION_SERVICE_URL: url('http://127.0.0.1:8084'),

  /**
   * The server and its administrator (the local stack creates the databases and roles with it). Each service
   * connects as its own role to its own database: USER_DATABASE_URL / ORDER_DATABASE_URL / PAYMENT_DATABASE_URL /
   * NOTIFICATION_DATABASE_URL, by default the same server as `user_service` / `order_service` /
   * `payment_service` / `notification_service` with their development passwords. TLS the libpq way, in
   * the URL: `?sslmode=verify-full&sslrootcert=/path/ca.pem`.
   */
  DATABASE_URL: url('postgres://paystream:paystream@127.0.0.1:5432/postgres'),
  USER_DATABASE_URL: z.string().url().optional(),
  ORDER_DATABASE_URL: z.string().url().optional(),
  PAYMENT_DATABASE_URL: z.string().url().optional(),
  NOTIFICATION_DATABASE_URL: z.string().url().optional(),

  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),

  /**
   * How a service authenticates to Kafka: SCRAM-SHA-512 by default (the local stack runs SASL with ACLs), each
   * service as its own principal (its name) unless KAFKA_USERNAME says otherwise. KAFKA_PASSWORD defaults to
   * the local stack's development password of that principal; production refuses it (production.ts).
   */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain', 'none']).default('scram-sha-512'),
  KAFKA_USERNAME: z.string().min(1).optional(),
  KAFKA_PASSWORD: z.string().min(1).optional(),
  /** TLS to the brokers; KAFKA_SSL_CA_FILE adds a private CA to the trusted ones. */
  KAFKA_SSL: booleanFlag,
  KAFKA_SSL_CA_FILE: z.string().optional(),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_PORT: port(8233),
  /** Where operators open the Temporal Web UI (the console links an order's workflows there). */
  TEMPORAL_UI_URL: url('http://127.0.0.1:8233'),
  /**
   * TLS to the Temporal frontend (system CAs, or TEMPORAL_TLS_CA_FILE); mTLS with a client certificate and
   * key (TEMPORAL_TLS_CERT_FILE + TEMPORAL_TLS_KEY_FILE); TEMPORAL_API_KEY for Temporal Cloud (implies TLS).
   */
  TEMPORAL_TLS: booleanFlag,
  TEMPORAL_TLS_CA_FILE: z.string().optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),

  // Stripe: a real test key talks to api.stripe.com; otherwise STRIPE_API_BASE points the SDK at a fake.
  STRIPE_SECRET_KEY: z.string().default('sk_test_paystreamlocal'),
  STRIPE_API_BASE: z.string().default('http://127.0.0.1:8420'),
  STRIPE_MOCK_PORT: port(12111),
  /** The demo checkout page (/demo): Stripe.js and the publishable key it runs with. */
  STRIPE_PUBLISHABLE_KEY: z.string().default('pk_test_paystreamlocal'),
  /** Where a browser loads Stripe.js; by default localstripe's fake one, or Stripe's with a real key. */
  STRIPE_JS_URL: z.url().optional(),
  LOCALSTRIPE_PORT: port(8420),
  /** Stripe-Signature: how old a webhook's signed timestamp may be before it counts as a replay. */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** How long a customer has to complete 3-D Secure before the PaymentIntent is cancelled. */
  PAYMENT_AUTH_TIMEOUT: z.coerce
    .number()
    .int()
    .min(1)
    .default(30 * 60),
  /** Order service: how an order is captured when `POST /orders/create` does not say (`capture`). */
  ORDER_DEFAULT_CAPTURE: z.enum(['automatic', 'manual']).default('automatic'),
  /**
   * Payment service, manual capture: how long an authorization is held before it is captured or voided by
   * itself (Stripe's authorizations lapse after 7 days; the workflow acts an hour before, or a tenth of a
   * short lifetime), what happens then (PAYMENT_AUTHORIZATION_EXPIRY: `void`, or `capture` in full), and how
   * long before that the merchant is warned (email and metric).
   */
  PAYMENT_AUTHORIZATION_LIFETIME: z.coerce
    .number()
    .int()
    .min(2)
    .default(7 * 24 * 3600),
  PAYMENT_AUTHORIZATION_EXPIRY: z.enum(['void', 'capture']).default('void'),
  PAYMENT_AUTHORIZATION_WARNING: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  /** Payment service: how long before a dispute's evidence is due the merchant is reminded. */
  DISPUTE_EVIDENCE_WARNING: z.coerce
    .number()
    .int()
    .min(1)
    .default(2 * 24 * 3600),
  /**
   * Reconciliation (payment service, a Temporal Schedule): how often the ledger is held against Stripe and the
   * order service, how far back each pass looks, how long a payment may stay open before it is looked at, and
   * the daily pass's longer window. `./paystream start` runs it every 30 s.
   */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(5).default(300),
  RECONCILE_WINDOW_SECONDS: z.coerce.number().int().min(60).default(3600),
  RECONCILE_STALE_SECONDS: z.coerce.number().int().min(1).default(900),
  RECONCILE_DAILY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .default(7 * 24 * 3600),

  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: port(1025),
  MAIL_API_PORT: port(8025),
  MAIL_FROM: z.string().default('Paystream <no-reply@paystream.local>'),
  /**
   * Notification service, the merchants' webhooks: each delivery is retried with exponential backoff from
   * WEBHOOK_INITIAL_RETRY_MS to WEBHOOK_MAX_RETRY_MS for WEBHOOK_RETRY_SECONDS in all (Stripe's three days); an
   * attempt may take WEBHOOK_TIMEOUT_MS; an endpoint failing WEBHOOK_DISABLE_AFTER_SECONDS without a success is
   * disabled (alerted).
   */
  WEBHOOK_INITIAL_RETRY_MS: z.coerce.number().int().min(100).default(5_000),
  WEBHOOK_MAX_RETRY_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(2 * 3600 * 1000),
  WEBHOOK_RETRY_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(3 * 24 * 3600),
  WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(3 * 24 * 3600),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Notification service: where notices for the merchant go (authorizations about to lapse, disputes). */
  MERCHANT_EMAIL: z.email().default('merchant@paystream.local'),
  /** Email retry budget: attempts, first backoff and backoff cap (exponential, factor 2). */
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(8),
  NOTIFY_INITIAL_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
  NOTIFY_MAX_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),

  /** OTLP/HTTP collector base URL (e.g. http://otel-collector:4318); spans are exported only when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),

  // Secrets have development defaults so the laptop run needs no set-up; production refuses them
  // (production.ts: shipped values, weak ones, each service for the secrets it holds).
  JWT_SECRET: z.string().min(32).default('dev-only-jwt-secret-change-me-in-production-0123456789'),
  /**
   * User service: access tokens are short (a revoked session ends within this), refresh tokens rotate on each
   * use for REFRESH_TOKEN_DAYS; a reused one revokes its family.
   */
  ACCESS_TOKEN_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  REFRESH_TOKEN_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** The page the emailed links open (verification, password reset), with `#verify=` or `#reset=` and the token. */
  ACCOUNT_LINK_URL: z.string().url().default('http://127.0.0.1:8080/demo'),
  SERVICE_TOKEN: z.string().min(16).default('dev-only-service-token-change-me'),
  /** The webhook endpoint's signing secret (`whsec_…` from Stripe's dashboard or `stripe listen`). */
  STRIPE_WEBHOOK_SECRET: z.string().min(16).default('dev-only-stripe-webhook-secret'),
  /**
   * AES-256-GCM keys of the Temporal payload codec, `id:base64,…` (the first encrypts, all decrypt), or a file
   * holding the same (PAYLOAD_CODEC_KEYS_FILE, e.g. a mounted secret). The default is for development only.
   */
  PAYLOAD_CODEC_KEYS: z.string().default(DEV_PAYLOAD_CODEC_KEYS),
  PAYLOAD_CODEC_KEYS_FILE: z.string().optional(),
  /** The codec server (npm run codec-server): decrypts payloads for the Temporal Web UI of an operator. */
  CODEC_SERVER_PORT: port(8089),
});

/** Every environment variable the services read (deployment files are checked against this list). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

export type Config = Omit<
  z.infer<typeof schema>,
  'USER_DATABASE_URL' | 'ORDER_DATABASE_URL' | 'PAYMENT_DATABASE_URL' | 'NOTIFICATION_DATABASE_URL'
> & {
  USER_DATABASE_URL: string;
  ORDER_DATABASE_URL: string;
  PAYMENT_DATABASE_URL: string;
  NOTIFICATION_DATABASE_URL: string;
};

/** The services' databases and the roles that own them (each role may connect to its own database only). */
export const SERVICE_DATABASES = {
  user: { database: 'users', role: 'user_service' },
  order: { database: 'orders', role: 'order_service' },
  payment: { database: 'payments', role: 'payment_service' },
  notification: { database: 'notifications', role: 'notification_service' },
} as const;

/** A service role's password on the local stack; production refuses it (production.ts). */
export function devDatabasePassword(role: string): string {
  return `dev-only-db-${role}`;
}

/** The local stack's development password of a Kafka principal; production refuses it (production.ts). */
export function devKafkaPassword(principal: string): string {
  return `dev-only-kafka-${principal}`;
}

function serviceDatabaseUrl(serverUrl: string, service: keyof typeof SERVICE_DATABASES): string {
  const { database, role } = SERVICE_DATABASES[service];
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  u.username = role;
  u.password = devDatabasePassword(role);
  return u.toString();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const cfg: Config = {
    ...parsed.data,
    USER_DATABASE_URL: parsed.data.USER_DATABASE_URL ?? serviceDatabaseUrl(parsed.data.DATABASE_URL, 'user'),
    ORDER_DATABASE_URL:
      parsed.data.ORDER_DATABASE_URL ?? serviceDatabaseUrl(parsed.data.DATABASE_URL, 'order'),
    PAYMENT_DATABASE_URL:
      parsed.data.PAYMENT_DATABASE_URL ?? serviceDatabaseUrl(parsed.data.DATABASE_URL, 'payment'),
    NOTIFICATION_DATABASE_URL:
      parsed.data.NOTIFICATION_DATABASE_URL ?? serviceDatabaseUrl(parsed.data.DATABASE_URL, 'notification'),
  };
  // What production refuses (shipped or weak secrets, fakes) is checked per service: production.ts.
  return cfg;
}

/** Real Stripe when the key is a real test/live key and no fake is configured explicitly. */
const usesRealStripe = (cfg: Config) =>
  /^sk_(test|live)_[A-Za-z0-9]{20,}$/.test(cfg.STRIPE_SECRET_KEY) && !process.env.STRIPE_API_BASE;

export function stripeClientOptions(cfg: Config): {
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
} {
  if (usesRealStripe(cfg)) return {};
  const base = new URL(cfg.STRIPE_API_BASE);
  return {
    host: base.hostname,
    port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
    protocol: base.protocol === 'https:' ? 'https' : 'http',
  };
}

/** Stripe.js for a browser: the configured URL, Stripe's own with real Stripe, else the fake's copy. */
export function stripeJsUrl(cfg: Config): string {
  if (cfg.STRIPE_JS_URL) return cfg.STRIPE_JS_URL;
  if (usesRealStripe(cfg)) return 'https://js.stripe.com/v3/';
  return new URL('/js.stripe.com/v3/', cfg.STRIPE_API_BASE).toString();
}

/**
 * A customer's cancel crosses gateway → order → payment, and the payment service waits for the outcome before it
 * answers 202 "still going". Each hop waits less than the one before it, all derived from the gateway's timeout,
 * so the 202 always gets back through the gateway: the payment service waits half of it, the order service
 * gives that call four fifths.
 */
export const cancelTimings = (cfg: Pick<Config, 'GATEWAY_TIMEOUT_MS'>) => ({
  paymentWaitMs: Math.floor(cfg.GATEWAY_TIMEOUT_MS / 2),
  orderCallMs: Math.floor((cfg.GATEWAY_TIMEOUT_MS * 4) / 5),
});
