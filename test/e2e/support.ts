/**
 * Set-up shared by the end-to-end tests: the five services as real processes on the real stack (gateway →
 * user → order → Kafka order.create → payment (Temporal, localstripe) → Kafka payment.event → order status,
 * notification → email), a proxy in front of localstripe that records every PaymentIntent, an OTLP
 * receiver for the services' spans, and clients for Temporal, Kafka and the order database; plus the
 * customer's steps: sign up, add a card, place an order, wait until it is no longer pending.
 *
 * Each e2e file starts its own set (~10 s) in its beforeAll, on its own ports (E2E_PORTS). The sets
 * share Kafka consumer groups and Temporal task queues, so the files must run one after another
 * (`jest --runInBand`, as `npm run test:all` does); two sets at once would take each other's orders.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { STRIPE_WEBHOOK_EVENTS } from '@paystream/common/events';
import { createKafka, createProducer } from '@paystream/common/kafka';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { createWorkflowClient } from '@paystream/common/temporal';
import { Client, Connection } from '@temporalio/client';
import type { Producer } from 'kafkajs';
import { Client as PgClient } from 'pg';
import { cfg, eventually, mailpit, uniqueEmail, verifyByMail } from '../support';
import { registerLocalstripeWebhook } from '../../stack/servers/localstripe';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { startServices, type ServiceSet } from '../support/services';
import { startStripeFaultProxy } from '../support/stripe-proxy';

// Built, as `npm run ops` runs it (the test command builds first).
const OPS_CLI = path.join(__dirname, '../../scripts/ops.mjs');

export interface OpsRun {
  code: number;
  out: string;
  err: string;
}

/** `npm run ops -- <args>` as an operator runs it, next to the services at `env`: exit code, stdout and stderr. */
export async function ops(env: NodeJS.ProcessEnv, ...args: string[]): Promise<OpsRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [OPS_CLI, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout.trim(), err: stderr.trim() };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: failed.stdout?.trim() ?? '', err: failed.stderr?.trim() ?? '' };
  }
}

/** Each file's five services listen on base..base+4 (test/infra uses 18080, test/chaos 18280). */
export const E2E_PORTS = {
  happyPath: 18180,
  observability: 18185,
  unhappyPaths: 18190,
  orderCreateDelivery: 18195,
  threeDSecure: 18200,
  threeDSecureChaos: 18300,
  webhooksLost: 18305,
  cancelAndRefund: 18205,
  hostileInput: 18210,
  demoCheckout: 18215,
  contract: 18220,
  ledger: 18225,
  moneyOperations: 18230,
  moneyChaos: 18310,
  operatorApi: 18235,
} as const;

/** A card localstripe (like Stripe) asks 3-D Secure for on every charge. */
export const THREE_DS_CARD = { number: '4000002760003184', expMonth: 12, expYear: 2034, cvc: '123' };

/** Points localstripe's webhook endpoint (it has no dashboard) at `gatewayUrl`, as `stack up` does for :8080. */
export function sendStripeWebhooksTo(gatewayUrl: string): Promise<void> {
  return registerLocalstripeWebhook(cfg.STRIPE_API_BASE, 'paystream', {
    url: `${gatewayUrl}/webhooks/stripe`,
    secret: cfg.STRIPE_WEBHOOK_SECRET,
    events: STRIPE_WEBHOOK_EVENTS,
  });
}

/** Back to the local stack's own gateway. */
const restoreStripeWebhooks = () => sendStripeWebhooksTo(`http://127.0.0.1:${cfg.GATEWAY_PORT}`);

/** Plays the customer at the bank: localstripe's stand-in for Stripe.js' 3-D Secure challenge. */
export async function authenticate(intentId: string, clientSecret: string, success: boolean): Promise<void> {
  const res = await fetch(`${cfg.STRIPE_API_BASE}/v1/payment_intents/${intentId}/_authenticate`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${cfg.STRIPE_SECRET_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ client_secret: clientSecret, success: String(success) }).toString(),
  });
  if (res.status !== 200)
    throw new Error(`_authenticate ${intentId}: HTTP ${res.status} ${await res.text()}`);
}

export type Auth = Record<string, string>;

/** An order by a new customer whose card asks for 3-D Secure, followed until it waits for them. */
export async function awaitingAuthentication(e2e: E2E) {
  const buyer = await e2e.customer({ card: THREE_DS_CARD });
  const created = await e2e.post('/orders/create', { amount: 4200, currency: 'EUR' }, buyer.auth);
  expect(created.status).toBe(201);
  const orderId = created.body.orderId as string;
  const waiting = await eventually(async () => {
    const s = await e2e.statusOf(orderId, buyer.auth);
    if (s.status !== 'requires_action') throw new Error(`order ${orderId} is ${s.status}`);
    return s;
  }, 20_000);
  return { ...buyer, orderId, waiting };
}

export interface Customer {
  email: string;
  userId: string;
  auth: Auth;
}

export interface OrderStatus {
  status: string;
  failureReason?: string;
  paymentIntentId?: string;
  refundedAmount?: number;
  nextAction?: { type: string; clientSecret: string; redirectUrl?: string };
}

export interface E2E {
  services: ServiceSet;
  /** What the services exported over OTLP. */
  otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  /** Temporal, as the Web UI reads it. */
  client: Client;
  producer: Producer;
  /** The order service's database. */
  orders: PgClient;
  /** POST to the gateway; the answer's status and JSON body. */
  post: (
    path: string,
    body: unknown,
    headers?: Auth,
  ) => Promise<{ status: number; body: Record<string, unknown> }>;
  /** A new user, signed in, with `card` added when given. */
  customer: (card?: Record<string, unknown>) => Promise<Customer>;
  /** The order as its owner sees it now (GET /orders/status/:orderId). */
  statusOf: (orderId: string, auth: Auth) => Promise<OrderStatus>;
  /** The order's status once it is no longer pending (up to 20 s). */
  finalStatus: (orderId: string, auth: Auth) => Promise<OrderStatus>;
  /** Every PaymentIntent Stripe created for this order (recorded on the wire), as Stripe holds it now. */
  intentsFor: (orderId: string) => Promise<Stripe.PaymentIntent[]>;
  /** An order by a new customer with a Visa card, followed to its end: paid, and the customer emailed. */
  paidOrder: () => Promise<Customer & { orderId: string }>;
  /** `npm run ops -- <args>` against this set's services (its actions are audited by its user service). */
  ops: (...args: string[]) => Promise<OpsRun>;
  /** Stops the services and closes everything started. */
  stop: () => Promise<void>;
}

const stripe = createStripe(cfg); // localstripe itself: keeps every PaymentIntent, so charges can be read back

/**
 * A set whose payment service has `authTimeoutSeconds` for 3-D Secure, and which receives localstripe's
 * webhooks while it runs (they go back to the stack's own gateway when it stops).
 */
export async function startE2EWithWebhooks(
  basePort: number,
  authTimeoutSeconds: number,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<E2E> {
  const e2e = await startE2E(basePort, { PAYMENT_AUTH_TIMEOUT: String(authTimeoutSeconds), ...extraEnv });
  await sendStripeWebhooksTo(e2e.services.url('gateway'));
  return {
    ...e2e,
    stop: async () => {
      // The services stop even when localstripe does not answer, so a failed suite leaves no process
      // holding its ports (the next suite would be served by them).
      try {
        await restoreStripeWebhooks();
      } finally {
        await e2e.stop();
      }
    },
  };
}

/**
 * Starts the services on basePort..basePort+4 and everything around them (with `extraEnv` for the
 * services); on failure stops what started.
 */
export async function startE2E(basePort: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<E2E> {
  const closers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    const errors: unknown[] = [];
    for (const close of closers.splice(0).reverse()) await close().catch((err: unknown) => errors.push(err));
    if (errors.length) throw errors[0];
  };
  try {
    const stripeProxy = await startStripeFaultProxy(cfg.STRIPE_API_BASE);
    closers.push(() => stripeProxy.close());
    const otlp = await startOtlpReceiver();
    closers.push(() => otlp.close());
    const services = await startServices(basePort, {
      GATEWAY_RATE_LIMIT: '100000',
      // Every test customer signs up and in from 127.0.0.1 (and the user tests guess wrong from there).
      SIGNUPS_PER_CLIENT: '100000',
      SIGNINS_PER_CLIENT: '100000',
      CARDS_PER_CLIENT: '100000',
      SETUP_INTENTS_PER_CLIENT: '100000',
      PASSWORD_RESETS_PER_CLIENT: '100000',
      ACCESS_TOKEN_SECONDS: '900', // a suite's customers sign in once
      ACCOUNT_LINK_URL: `http://127.0.0.1:${basePort}/demo`, // the emailed links open this set's demo page
      STRIPE_API_BASE: stripeProxy.url,
      LOG_LEVEL: 'info', // the log lines are asserted too (trace id and order id on each)
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ...extraEnv,
    });
    closers.push(() => services.stopAll());
    const temporal = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
    closers.push(() => temporal.close());
    const client = createWorkflowClient(temporal, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
    const producer = createProducer(createKafka('e2e-test', cfg));
    await producer.connect();
    closers.push(() => producer.disconnect());
    const orders = new PgClient({ connectionString: cfg.ORDER_DATABASE_URL });
    await orders.connect();
    closers.push(() => orders.end());

    const post: E2E['post'] = async (path, body, headers = {}) => {
      const res = await fetch(`${services.url('gateway')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const text = await res.text(); // empty for a 202 or 204 without a body
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };

    const customer: E2E['customer'] = async (card) => {
      const email = uniqueEmail('e2e');
      const password = 'end to end test password';
      const signup = await post('/users/signup', { email, password, name: 'E2E' });
      expect(signup.status).toBe(202);
      // Payment emails go to verified addresses only: the customer clicks the link, as a person does.
      await verifyByMail(services.url('gateway'), email);
      const signin = await post('/users/signin', { email, password });
      const auth = { authorization: `Bearer ${signin.body.token as string}` };
      if (card) expect((await post('/users/add', card, auth)).status).toBe(201);
      return { email, userId: signin.body.userId as string, auth };
    };

    const statusOf: E2E['statusOf'] = async (orderId, auth) => {
      const res = await fetch(`${services.url('gateway')}/orders/status/${orderId}`, { headers: auth });
      return (await res.json()) as OrderStatus;
    };

    const finalStatus: E2E['finalStatus'] = (orderId, auth) =>
      eventually(async () => {
        const s = await statusOf(orderId, auth);
        if (s.status === 'pending') throw new Error(`order ${orderId} still pending`);
        return s;
      }, 20_000);

    const intentsFor: E2E['intentsFor'] = (orderId) => {
      const ids = [...(stripeProxy.intents.get(orderId) ?? [])];
      return Promise.all(ids.map((id) => stripe.paymentIntents.retrieve(id)));
    };

    const paidOrder: E2E['paidOrder'] = async () => {
      const buyer = await customer({ paymentMethodId: 'pm_card_visa' });
      const created = await post('/orders/create', { amount: 2599, currency: 'EUR' }, buyer.auth);
      expect(created.status).toBe(201);
      const orderId = created.body.orderId as string;
      expect((await finalStatus(orderId, buyer.auth)).status).toBe('paid');
      await eventually(async () => {
        if (!(await mailpit.messagesTo(buyer.email)).length) throw new Error('no email yet');
      });
      return { ...buyer, orderId };
    };

    return {
      services,
      otlp,
      client,
      producer,
      orders,
      post,
      customer,
      statusOf,
      finalStatus,
      intentsFor,
      paidOrder,
      ops: (...args) => ops({ USER_SERVICE_URL: services.url('user') }, ...args),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined); // the start's error is the one worth seeing
    throw err;
  }
}
