import { randomUUID } from 'node:crypto';
import { initDataSource } from '@paystream/common/db';
import { TOPICS, type PaymentEvent } from '@paystream/common/events';
import { createServiceApp, finish } from '@paystream/common/http';
import { createKafka, createProducer } from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { createWorkflowClient } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { Connection, type Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { paymentWorkflowId, type paymentWorkflow, type ReconcileInput } from '@paystream/workflows';
import { cfg, collectTopic, eventually, serve, type RunningApp } from '../support';
import { paymentDataSource } from '../../services/payment/src/ledger/data-source';
import { Ledger } from '../../services/payment/src/ledger/ledger';
import { createReconcileActivities } from '../../services/payment/src/reconcile';
import { stripePort } from '../../services/payment/src/stripe-port';
import { createPaymentWorker } from '../../services/payment/src/worker';
import { orderDataSource } from '../../services/order/src/db/data-source';
import { internalRoutes } from '../../services/order/src/routes/internal';
import { authenticate, THREE_DS_CARD } from '../e2e/support';

/**
 * Each reconciliation rule against the real stack: the payments and orders databases, localstripe (the
 * objects a rule reads and the ones it changes), Kafka (the events a heal publishes) and Temporal (a
 * payment worker on a task queue of this file's own, for the heals that go through workflows).
 */
const TASK_QUEUE = `reconcile-test-${randomUUID().slice(0, 8)}`;
const stripe = createStripe(cfg);
const logger = createLogger('reconcile-test', 'warn');
let paymentsDb: DataSource;
let ordersDb: DataSource;
let ledger: Ledger;
let connection: Connection;
let client: Client;
let producer: Producer;
let orderService: RunningApp;
let worker: { worker: Worker; run: Promise<void>; close: () => Promise<unknown> };
let rules: ReturnType<typeof createReconcileActivities>;

beforeAll(async () => {
  paymentsDb = await initDataSource(paymentDataSource(cfg.PAYMENT_DATABASE_URL));
  ordersDb = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  ledger = new Ledger(paymentsDb);
  connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  client = createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
  producer = createProducer(createKafka('reconcile-test', cfg));
  await producer.connect();
  const app = createServiceApp({ logger });
  app.use(internalRoutes(ordersDb, cfg));
  orderService = await serve(finish(app, logger));
  const deps = {
    stripe,
    ledger,
    client,
    producer,
    orderServiceUrl: orderService.url,
    serviceToken: cfg.SERVICE_TOKEN,
    logger,
    taskQueue: TASK_QUEUE,
  };
  rules = createReconcileActivities(deps);
  const created = await createPaymentWorker({
    connection: temporalConnectionOptions(cfg),
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: TASK_QUEUE,
    dataConverter: dataConverterFor(cfg),
    logger,
    activities: {
      orderServiceUrl: orderService.url,
      userServiceUrl: 'http://127.0.0.1:1',
      serviceToken: cfg.SERVICE_TOKEN,
      stripe: stripePort(stripe),
      producer,
      ledger,
      logger,
    },
    reconcile: deps,
  });
  worker = { worker: created.worker, run: created.worker.run(), close: () => created.connection.close() };
}, 120_000);

afterAll(async () => {
  worker?.worker.shutdown();
  await worker?.run;
  await worker?.close();
  await orderService?.close();
  await producer?.disconnect();
  await connection?.close();
  await paymentsDb?.destroy();
  await ordersDb?.destroy();
});

/** A pass over the last ten minutes; `staleSeconds` 0 takes in what was made a moment ago. */
const pass = (over: Partial<ReconcileInput> = {}): ReconcileInput => ({
  pass: 'interval',
  windowSeconds: 600,
  staleSeconds: 0,
  ...over,
});

/** A customer in localstripe with a card, and an intent for `orderId` (confirmed when `confirm`). */
async function intentFor(
  orderId: string,
  {
    amount = 2500,
    confirm = true,
    card,
  }: { amount?: number; confirm?: boolean; card?: typeof THREE_DS_CARD } = {},
): Promise<Stripe.PaymentIntent> {
  const customer = await stripe.customers.create({ email: `recon-${orderId.slice(0, 8)}@example.test` });
  let paymentMethod = 'pm_card_visa';
  if (card) {
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: card.number, exp_month: card.expMonth, exp_year: card.expYear, cvc: card.cvc },
    });
    await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
    paymentMethod = pm.id;
  }
  return stripe.paymentIntents.create({
    amount,
    currency: 'eur',
    customer: customer.id,
    payment_method: paymentMethod,
    confirm,
    metadata: { orderId, userId: randomUUID() },
  });
}

/** A paid order as the ledger holds it after a normal run: claim, intent, charge, outcome. */
async function paidInLedger(amount = 2500) {
  const order = { orderId: randomUUID(), userId: randomUUID(), amount, currency: 'eur' };
  const intent = await intentFor(order.orderId, { amount });
  await ledger.claim(order);
  await ledger.recordIntent(order, intent.id);
  await ledger.recordCharge({ ...order, paymentIntentId: intent.id, occurredAt: new Date() });
  await ledger.recordOutcome({ ...order, status: 'succeeded', eventId: randomUUID() });
  return { ...order, intent };
}

const driftOf = async (stripeObjectId: string) =>
  paymentsDb.query<{ kind: string; order_id: string; stripe_amount: number | null }[]>(
    `SELECT kind, order_id, stripe_amount::int AS stripe_amount FROM drift WHERE stripe_object_id = $1`,
    [stripeObjectId],
  );

describe('reconciliation, Stripe against the ledger', () => {
  it('records an intent for an order the ledger never claimed as unknown_intent drift, once', async () => {
    const orderId = randomUUID();
    const intent = await intentFor(orderId, { amount: 1234 });
    await rules.reconcileStripeObjects(pass());
    await rules.reconcileStripeObjects(pass());
    expect(await driftOf(intent.id)).toEqual([
      { kind: 'unknown_intent', order_id: orderId, stripe_amount: 1234 },
    ]);
  });

  it('records a second charged intent of a paid order as second_charge drift', async () => {
    const paid = await paidInLedger();
    const second = await intentFor(paid.orderId);
    await rules.reconcileStripeObjects(pass());
    expect(await driftOf(second.id)).toEqual([
      { kind: 'second_charge', order_id: paid.orderId, stripe_amount: 2500 },
    ]);
    expect(await driftOf(paid.intent.id)).toEqual([]); // the order's own intent is as the ledger says
  });

  it('records a charge of an intent the ledger calls failed as charged_but_failed drift', async () => {
    const order = { orderId: randomUUID(), userId: randomUUID(), amount: 2500, currency: 'eur' };
    const intent = await intentFor(order.orderId);
    await ledger.claim(order);
    await ledger.recordIntent(order, intent.id);
    await ledger.recordOutcome({
      ...order,
      status: 'failed',
      eventId: randomUUID(),
      failureReason: 'declined',
    });
    await rules.reconcileStripeObjects(pass());
    expect(await driftOf(intent.id)).toEqual([
      { kind: 'charged_but_failed', order_id: order.orderId, stripe_amount: 2500 },
    ]);
  });

  it('records an amount Stripe received that is not the order’s as amount_mismatch drift', async () => {
    const order = { orderId: randomUUID(), userId: randomUUID(), amount: 2500, currency: 'eur' };
    const intent = await intentFor(order.orderId, { amount: 2700 });
    await ledger.claim(order);
    await ledger.recordIntent(order, intent.id);
    await ledger.recordOutcome({ ...order, status: 'succeeded', eventId: randomUUID() });
    await rules.reconcileStripeObjects(pass());
    expect(await driftOf(intent.id)).toEqual([
      { kind: 'amount_mismatch', order_id: order.orderId, stripe_amount: 2700 },
    ]);
  });

  it('cancels an unconfirmed intent of an order whose ledger holds another one (an attempt that died)', async () => {
    const paid = await paidInLedger();
    const orphan = await intentFor(paid.orderId, { confirm: false });
    await rules.reconcileStripeObjects(pass());
    expect((await stripe.paymentIntents.retrieve(orphan.id)).status).toBe('canceled');
    expect((await stripe.paymentIntents.retrieve(paid.intent.id)).status).toBe('succeeded');
    expect(await driftOf(orphan.id)).toEqual([]);
  });

  it('turns a refund made in the dashboard, whose webhook never came, into a ledger refund and an order event', async () => {
    const paid = await paidInLedger();
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === paid.orderId);
    try {
      const refund = await stripe.refunds.create({ payment_intent: paid.intent.id, amount: 700 });
      await rules.reconcileStripeObjects(pass());
      const [event] = await events.waitFor(1, 30_000);
      expect(JSON.parse(event!.value)).toMatchObject({
        orderId: paid.orderId,
        status: 'partially_refunded',
        refundAmount: 700,
        refundedAmount: 700,
      });
      expect(await ledger.movements(paid.orderId)).toEqual([
        expect.objectContaining({ kind: 'charged', stripeObjectId: paid.intent.id, amount: 2500 }),
        expect.objectContaining({ kind: 'refunded', stripeObjectId: refund.id, amount: 700 }),
      ]);
      expect((await ledger.payment(paid.orderId))?.refundedAmount).toBe(700);
      // A second pass finds the refund recorded: nothing more happens.
      await rules.reconcileStripeObjects(pass());
      await new Promise((r) => setTimeout(r, 1500));
      expect(events.messages).toHaveLength(1);
    } finally {
      await events.stop();
    }
  });
});

describe('reconciliation, open payments', () => {
  it('records a payment open past the threshold with no workflow to finish it as stuck_payment drift', async () => {
    const order = { orderId: randomUUID(), userId: randomUUID(), amount: 2500, currency: 'eur' };
    await ledger.claim(order);
    await paymentsDb.query(
      `UPDATE payments SET updated_at = now() - interval '2 hours' WHERE order_id = $1`,
      [order.orderId],
    );
    await rules.reconcileOpenPayments(pass({ staleSeconds: 3600 }));
    expect(await driftOf(`order:${order.orderId}`)).toEqual([
      { kind: 'stuck_payment', order_id: order.orderId, stripe_amount: null },
    ]);
  });

  it('wakes a payment waiting for 3-D Secure whose webhook never came, and it is paid', async () => {
    const orderId = randomUUID();
    const order = {
      eventId: randomUUID(),
      orderId,
      userId: randomUUID(),
      amount: 4200,
      currency: 'eur',
      createdAt: new Date().toISOString(),
    };
    const intent = await intentFor(orderId, { amount: 4200, confirm: false, card: THREE_DS_CARD });
    await ledger.claim(order);
    await ledger.recordIntent(order, intent.id); // the ledger holds it: the run confirms it, creates none
    const handle = await client.workflow.start<typeof paymentWorkflow>('paymentWorkflow', {
      workflowId: paymentWorkflowId(orderId),
      taskQueue: TASK_QUEUE,
      args: [order, { authTimeoutSeconds: 600 }],
    });
    const waiting = await eventually(async () => {
      const now = await stripe.paymentIntents.retrieve(intent.id);
      if (now.status !== 'requires_action') throw new Error(`intent is ${now.status}`);
      return now;
    }, 20_000);
    await authenticate(intent.id, waiting.client_secret!, true); // the customer passes; no webhook reaches us
    await paymentsDb.query(
      `UPDATE payments SET updated_at = now() - interval '2 hours' WHERE order_id = $1`,
      [orderId],
    );
    const woken = await rules.reconcileOpenPayments(pass({ staleSeconds: 3600 }));
    expect(woken.healed).toBeGreaterThanOrEqual(1);
    expect(await handle.result()).toEqual({ status: 'succeeded', paymentIntentId: intent.id });
    expect(await ledger.payment(orderId)).toMatchObject({ status: 'succeeded', capturedAmount: 4200 });
    expect((await ledger.movements(orderId)).map((m) => [m.kind, m.stripeObjectId])).toEqual([
      ['charged', intent.id],
    ]);
  });
});

describe('reconciliation, the order service against the ledger', () => {
  /** An order row as the order service writes it, with the ledger's outcome recorded a while ago. */
  async function orderAndOutcome(orderStatus: string) {
    const paid = await paidInLedger();
    await ordersDb.query(
      `INSERT INTO orders (id, user_id, amount, currency, status) VALUES ($1, $2, $3, 'eur', $4)`,
      [paid.orderId, paid.userId, paid.amount, orderStatus],
    );
    await paymentsDb.query(
      `UPDATE payments SET outcome_at = now() - interval '5 minutes' WHERE order_id = $1`,
      [paid.orderId],
    );
    return { ...paid, row: (await ledger.payment(paid.orderId))! };
  }

  it('publishes an outcome the order never applied again, under its first event id', async () => {
    const { orderId, row } = await orderAndOutcome('pending');
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      await rules.reconcileOrderStatuses(pass({ windowSeconds: 3600, staleSeconds: 60 }));
      const [event] = await events.waitFor(1, 20_000);
      expect(JSON.parse(event!.value) as PaymentEvent).toMatchObject({
        eventId: row.outcomeEventId,
        orderId,
        status: 'succeeded',
        paymentIntentId: row.paymentIntentId,
      });
    } finally {
      await events.stop();
    }
  });

  it('records an order that failed while the ledger says paid as order_status_mismatch drift', async () => {
    const { intent, orderId } = await orderAndOutcome('failed');
    await rules.reconcileOrderStatuses(pass({ windowSeconds: 3600, staleSeconds: 60 }));
    expect(await driftOf(intent.id)).toEqual([
      { kind: 'order_status_mismatch', order_id: orderId, stripe_amount: null },
    ]);
  });
});
