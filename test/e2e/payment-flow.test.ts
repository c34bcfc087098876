import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createProducer,
  createStripe,
  publishJson,
  TOPICS,
  type OrderCreateEvent,
  type PaymentEvent,
  type Stripe,
} from '@paystream/common';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import type { Producer } from 'kafkajs';
import { cfg, collectTopic, eventually, mailpit, uniqueEmail } from '../support';
import { startServices, type ServiceSet } from '../support/services';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startStripeFaultProxy, type FaultProxy } from '../support/stripe-proxy';

/**
 * The whole path on the real stack: gateway → user (Postgres, localstripe) → order (Postgres, outbox) →
 * Kafka order.create → payment (Temporal workflow, localstripe) → Kafka payment.event → order status.
 */
let services: ServiceSet;
let temporal: Connection;
let client: Client;
let producer: Producer;
let orders: PgClient;
let stripeProxy: FaultProxy;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
const stripe = createStripe(cfg); // localstripe itself: keeps every PaymentIntent, so charges can be read back

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${services.url('gateway')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function customer(card?: Record<string, unknown>) {
  const email = uniqueEmail('e2e');
  const password = 'end to end test password';
  const signup = await post('/users/signup', { email, password, name: 'E2E' });
  expect(signup.status).toBe(201);
  const signin = await post('/users/signin', { email, password });
  const auth = { authorization: `Bearer ${signin.body.token as string}` };
  if (card) expect((await post('/users/add', card, auth)).status).toBe(201);
  return { email, userId: signup.body.id as string, auth };
}

async function statusOf(orderId: string, auth: Record<string, string>) {
  const res = await fetch(`${services.url('gateway')}/orders/status/${orderId}`, { headers: auth });
  return (await res.json()) as { status: string; failureReason?: string; paymentIntentId?: string };
}

async function finalStatus(orderId: string, auth: Record<string, string>) {
  return eventually(async () => {
    const s = await statusOf(orderId, auth);
    if (s.status === 'pending') throw new Error(`order ${orderId} still pending`);
    return s;
  }, 20_000);
}

/** Every PaymentIntent Stripe created for this order (recorded on the wire), as Stripe holds it now. */
async function intentsFor(orderId: string): Promise<Stripe.PaymentIntent[]> {
  const ids = [...(stripeProxy.intents.get(orderId) ?? [])];
  return Promise.all(ids.map((id) => stripe.paymentIntents.retrieve(id)));
}

beforeAll(async () => {
  stripeProxy = await startStripeFaultProxy(cfg.STRIPE_API_BASE);
  otlp = await startOtlpReceiver();
  services = await startServices(18180, {
    GATEWAY_RATE_LIMIT: '100000',
    STRIPE_API_BASE: stripeProxy.url,
    LOG_LEVEL: 'info', // the log lines are asserted too (trace id and order id on each)
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  temporal = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  client = new Client({ connection: temporal, namespace: cfg.TEMPORAL_NAMESPACE });
  producer = createProducer(createKafka('e2e-test', cfg.KAFKA_BROKERS));
  await producer.connect();
  orders = new PgClient({ connectionString: cfg.ORDER_DATABASE_URL });
  await orders.connect();
}, 180_000);

afterAll(async () => {
  await services?.stopAll();
  await stripeProxy?.close();
  await otlp?.close();
  await producer?.disconnect();
  await temporal?.close();
  await orders?.end();
});

describe('an order, end to end', () => {
  it('is paid: one PaymentIntent, one payment.event, one email, and the Web UI finds it by order id', async () => {
    const { auth, userId, email } = await customer({ paymentMethodId: 'pm_card_visa' });
    const key = `e2e-${randomUUID()}`;
    const created = await post(
      '/orders/create',
      { amount: 2599, currency: 'EUR' },
      { ...auth, 'idempotency-key': key },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', amount: 2599, currency: 'eur' });
    const orderId = created.body.orderId as string;
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      const final = await finalStatus(orderId, auth);
      expect(final.status).toBe('paid');

      // The same Idempotency-Key returns the same order, never a second one.
      const again = await post(
        '/orders/create',
        { amount: 2599, currency: 'eur' },
        { ...auth, 'idempotency-key': key },
      );
      expect(again.status).toBe(200);
      expect(again.body.orderId).toBe(orderId);
      const rows = await orders.query(`SELECT status FROM orders WHERE user_id = $1`, [userId]);
      expect(rows.rows).toEqual([{ status: 'paid' }]);

      const published = await events.waitFor(1, 20_000, 2000);
      expect(published).toHaveLength(1);
      const event = JSON.parse(published[0]!.value) as PaymentEvent;
      expect(event).toMatchObject({ orderId, userId, status: 'succeeded', amount: 2599, currency: 'eur' });
      expect(final.paymentIntentId).toBe(event.paymentIntentId);

      const intents = await intentsFor(orderId);
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({
        id: event.paymentIntentId,
        status: 'succeeded',
        amount: 2599,
        currency: 'eur',
      });

      const handle = client.workflow.getHandle(`payment-${orderId}`);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      const found = await eventually(async () => {
        const list: string[] = [];
        for await (const wf of client.workflow.list({ query: `OrderId = "${orderId}"` }))
          list.push(wf.workflowId);
        if (list.length < 2) throw new Error(`indexed so far: ${list.join(', ')}`);
        return list.sort();
      });
      // The operator's search by order id finds its payment and its notification.
      expect(found).toEqual([expect.stringMatching(/^notify-/), `payment-${orderId}`]);

      // ...and the customer is told, once.
      const mails = await eventually(async () => {
        const m = await mailpit.messagesTo(email);
        if (!m.length) throw new Error('no email yet');
        return m;
      });
      expect(mails.map((m) => m.Subject)).toEqual(['Payment received — €25.99']);

      // ...and each service's /metrics counted what happened.
      const scrape = async (service: 'gateway' | 'order' | 'payment' | 'notification') =>
        (await fetch(`${services.url(service)}/metrics`)).text();
      const value = (text: string, series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line ? Number(line.split(' ')[1]) : 0;
      };
      const [gw, ord, pay, notify] = await Promise.all([
        scrape('gateway'),
        scrape('order'),
        scrape('payment'),
        scrape('notification'),
      ]);
      expect(
        value(gw, 'http_request_duration_seconds_count{method="POST",route="/orders",status="201"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(ord, 'http_request_duration_seconds_count{method="POST",route="/create",status="201"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(ord, 'kafka_messages_total{topic="order.create",direction="produced",result="ok"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(ord, 'kafka_messages_total{topic="payment.event",direction="consumed",result="ok"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(ord).toMatch(/^outbox_backlog \d+$/m);
      expect(
        value(pay, 'workflow_starts_total{workflow="paymentWorkflow",result="started"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(value(pay, 'payment_outcomes_total{status="succeeded"}')).toBeGreaterThanOrEqual(1);
      expect(value(notify, 'emails_sent_total')).toBeGreaterThanOrEqual(1);
      expect(notify).toMatch(/^process_resident_memory_bytes \d+/m);
      for (const text of [ord, pay, notify]) expect(text).toMatch(/^kafka_consumer_lag \d+$/m);

      // ...and one trace shows the order from POST /create to the email, across all five services.
      const traceId = await eventually(() => {
        const create = otlp.spans.find(
          (sp) => sp.name === 'POST /create' && sp.attributes['paystream.order_id'] === orderId,
        );
        if (!create) throw new Error('no span for the order yet');
        return create.traceId;
      });
      const activity = (service: string, name: string) => [
        `${service} INTERNAL StartActivity:${name}`,
        `${service} INTERNAL RunActivity:${name}`,
      ];
      const expected = [
        'paystream-gateway SERVER POST /orders',
        'paystream-order SERVER POST /create',
        'paystream-order PRODUCER order.create publish',
        'paystream-payment CONSUMER order.create process',
        'paystream-payment INTERNAL StartWorkflow:paymentWorkflow',
        'paystream-payment INTERNAL RunWorkflow:paymentWorkflow',
        ...activity('paystream-payment', 'getPaymentDetails'),
        'paystream-user SERVER GET /get/:userId',
        ...activity('paystream-payment', 'createPaymentIntent'),
        ...activity('paystream-payment', 'confirmPaymentIntent'),
        ...activity('paystream-payment', 'publishPaymentEvent'),
        'paystream-payment PRODUCER payment.event publish',
        'paystream-order CONSUMER payment.event process',
        'paystream-notification CONSUMER payment.event process',
        'paystream-notification INTERNAL StartWorkflow:notificationWorkflow',
        'paystream-notification INTERNAL RunWorkflow:notificationWorkflow',
        ...activity('paystream-notification', 'sendEmail'),
      ];
      const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
      const describe = (sp: ReceivedSpan) => `${sp.service} ${kinds[sp.kind - 1]} ${sp.name}`;
      const trace = await eventually(() => {
        const spans = otlp.spans.filter((sp) => sp.traceId === traceId);
        const missing = expected.filter((e) => !spans.some((sp) => describe(sp) === e));
        if (missing.length)
          throw new Error(
            `trace ${traceId} lacks ${missing.join(', ')}; has ${spans.map(describe).join(', ')}`,
          );
        return spans;
      }, 20_000);
      // One tree: a single root (the gateway's request), every other span's parent is in the trace.
      const ids = new Set(trace.map((sp) => sp.spanId));
      const roots = trace.filter((sp) => !sp.parentSpanId || !ids.has(sp.parentSpanId));
      expect(roots.map(describe)).toEqual(['paystream-gateway SERVER POST /orders']);

      // ...and the log lines about this order carry its order id and that trace id.
      const logsOf = (service: string, msg: string) =>
        services.output
          .filter((l) => l.startsWith(`${service}: {`))
          .map((l) => JSON.parse(l.slice(service.length + 2)) as Record<string, unknown>)
          .filter((l) => l.msg === msg && l.orderId === orderId);
      for (const [service, msg] of [
        ['order', 'order created'],
        ['payment', 'payment workflow started'],
        ['order', 'payment event processed'],
        ['notification', 'notification scheduled'],
      ] as const)
        expect({ service, msg, lines: logsOf(service, msg).map((l) => l.traceId) }).toEqual({
          service,
          msg,
          lines: [traceId],
        });
    } finally {
      await events.stop();
    }
  });

  it('fails with a reason when the card is declined or there is no card', async () => {
    const declining = await customer({
      card: { number: '4000000000000341', expMonth: 12, expYear: 2034, cvc: '123' },
    });
    const declined = await post(
      '/orders/create',
      { items: [{ sku: 'book', quantity: 2, unitAmount: 1250 }], currency: 'usd' },
      declining.auth,
    );
    expect(declined.status).toBe(201);
    expect(declined.body.amount).toBe(2500);
    const d = await finalStatus(declined.body.orderId as string, declining.auth);
    expect(d.status).toBe('failed');
    expect(d.failureReason).toMatch(/declined/i);

    const cardless = await customer();
    const orphan = await post('/orders/create', { amount: 500, currency: 'usd' }, cardless.auth);
    const o = await finalStatus(orphan.body.orderId as string, cardless.auth);
    expect(o).toMatchObject({ status: 'failed', failureReason: 'No payment method on file' });
    expect(await intentsFor(orphan.body.orderId as string)).toHaveLength(0);
  });

  it('hides other users’ orders and validates input', async () => {
    const alice = await customer({ paymentMethodId: 'pm_card_visa' });
    const bob = await customer();
    const order = await post('/orders/create', { amount: 100, currency: 'usd' }, alice.auth);
    const peek = await fetch(`${services.url('gateway')}/orders/status/${order.body.orderId as string}`, {
      headers: bob.auth,
    });
    expect(peek.status).toBe(404);
    const unknown = await fetch(`${services.url('gateway')}/orders/status/${randomUUID()}`, {
      headers: bob.auth,
    });
    expect(unknown.status).toBe(404);
    for (const body of [
      { amount: 0, currency: 'usd' },
      { amount: 1.5, currency: 'usd' },
      { amount: 100, currency: 'dollars' },
      { amount: 100, items: [], currency: 'usd' },
      { currency: 'usd' },
      { amount: '100', currency: 'usd' },
    ]) {
      const res = await post('/orders/create', body, bob.auth);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const badKey = await post(
      '/orders/create',
      { amount: 100, currency: 'usd' },
      { ...bob.auth, 'idempotency-key': 'spaces are not allowed' },
    );
    expect(badKey.status).toBe(400);
    const reused = `reuse-${randomUUID()}`;
    expect(
      (
        await post(
          '/orders/create',
          { amount: 100, currency: 'usd' },
          { ...bob.auth, 'idempotency-key': reused },
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await post(
          '/orders/create',
          { amount: 200, currency: 'usd' },
          { ...bob.auth, 'idempotency-key': reused },
        )
      ).status,
    ).toBe(409);
  });

  it('charges once when order.create is delivered twice', async () => {
    const { userId } = await customer({ paymentMethodId: 'pm_card_visa' });
    const orderId = randomUUID();
    const order: OrderCreateEvent = {
      eventId: randomUUID(),
      orderId,
      userId,
      amount: 777,
      currency: 'usd',
      createdAt: new Date().toISOString(),
    };
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      await publishJson(producer, TOPICS.orderCreate, orderId, order);
      await publishJson(producer, TOPICS.orderCreate, orderId, order);
      const published = await events.waitFor(1, 20_000, 3000);
      expect(published).toHaveLength(1);
      expect((JSON.parse(published[0]!.value) as PaymentEvent).status).toBe('succeeded');
      expect(await intentsFor(orderId)).toHaveLength(1);
      const runs: string[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = "payment-${orderId}"` }))
        runs.push(wf.runId);
      expect(runs).toHaveLength(1);
    } finally {
      await events.stop();
    }
  });

  it('parks a malformed order.create and keeps consuming', async () => {
    const { userId } = await customer({ paymentMethodId: 'pm_card_visa' });
    const badKey = randomUUID();
    const orderId = randomUUID();
    const parked = await collectTopic(TOPICS.parked, (k) => k === badKey);
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      await producer.send({
        topic: TOPICS.orderCreate,
        messages: [{ key: badKey, value: '{"orderId": 42' }],
      });
      await publishJson(producer, TOPICS.orderCreate, orderId, {
        eventId: randomUUID(),
        orderId,
        userId,
        amount: 300,
        currency: 'usd',
        createdAt: new Date().toISOString(),
      } satisfies OrderCreateEvent);
      const [p] = await parked.waitFor(1);
      expect(JSON.parse(p!.value)).toMatchObject({
        topic: TOPICS.orderCreate,
        consumerGroup: 'payment-service',
        reason: expect.stringMatching(/invalid JSON/),
      });
      await events.waitFor(1);
    } finally {
      await parked.stop();
      await events.stop();
    }
  });
});
