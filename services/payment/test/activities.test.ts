import { randomUUID } from 'node:crypto';
import { initDataSource } from '@paystream/common/db';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { PAYMENT_ERRORS } from '@paystream/workflows';
import { createPaymentActivities } from '../src/activities';
import { paymentDataSource } from '../src/ledger/data-source';
import { Ledger } from '../src/ledger/ledger';
import { stripePort } from '../src/stripe-port';
import { cfg } from '../../../test/support';

/**
 * The payment activities against localstripe (through the official SDK) and the payments database: what
 * the unit tests check with a recording port, here with the objects Stripe keeps and the rows the ledger
 * keeps. localstripe never honours idempotency keys, so "one intent", "one charge" and "one refund" below
 * are the activities' own doing.
 */
const stripe = createStripe(cfg);
const quiet = new DefaultLogger('ERROR', () => undefined);
const run = <T>(fn: () => Promise<T>): Promise<T> =>
  new MockActivityEnvironment({}, { logger: quiet }).run<[], T, () => Promise<T>>(fn);
let db: DataSource;
let ledger: Ledger;
let activities: ReturnType<typeof createPaymentActivities>;

beforeAll(async () => {
  db = await initDataSource(paymentDataSource(cfg.PAYMENT_DATABASE_URL));
  ledger = new Ledger(db);
  activities = createPaymentActivities({
    userServiceUrl: 'http://127.0.0.1:1',
    orderServiceUrl: 'http://127.0.0.1:1',
    serviceToken: cfg.SERVICE_TOKEN,
    stripe: stripePort(stripe),
    ledger,
    producer: {} as Producer,
  });
});

afterAll(() => db?.destroy());

/** A claimed order of a localstripe customer paying with `card` (a test card number, or a pm_… id). */
async function orderPaidWith(card = 'pm_card_visa', amount = 2500) {
  const customer = await stripe.customers.create({
    email: `activities-${randomUUID().slice(0, 8)}@example.test`,
  });
  let paymentMethodId = card;
  if (!card.startsWith('pm_')) {
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: card, exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
    paymentMethodId = pm.id;
  }
  const order = { orderId: randomUUID(), userId: randomUUID(), amount, currency: 'eur' };
  await ledger.claim(order);
  return { ...order, customerId: customer.id, paymentMethodId };
}

/** Every PaymentIntent localstripe holds for the order. */
async function intentsOf(orderId: string): Promise<Stripe.PaymentIntent[]> {
  const all: Stripe.PaymentIntent[] = [];
  for await (const intent of stripe.paymentIntents.list({
    limit: 100,
    created: { gte: Math.floor(Date.now() / 1000) - 120 },
  }))
    if (intent.metadata.orderId === orderId) all.push(intent);
  return all;
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );

describe('payment activities on localstripe and the ledger', () => {
  it('a retried create makes no second intent, and a retried confirm no second charge', async () => {
    const order = await orderPaidWith();
    const id = await run(() => activities.createPaymentIntent(order));
    expect(await run(() => activities.createPaymentIntent(order))).toBe(id);
    expect(await run(() => activities.confirmPaymentIntent(id))).toEqual({ status: 'succeeded' });
    expect(await run(() => activities.confirmPaymentIntent(id))).toEqual({ status: 'succeeded' });

    expect((await intentsOf(order.orderId)).map((i) => [i.id, i.status, i.amount_received])).toEqual([
      [id, 'succeeded', 2500],
    ]);
    const charges = await stripe.charges.list({ payment_intent: id });
    expect(charges.data).toHaveLength(1);
    expect(await ledger.payment(order.orderId)).toMatchObject({
      paymentIntentId: id,
      status: 'succeeded',
      capturedAmount: 2500,
    });
    expect(await ledger.movements(order.orderId)).toEqual([
      expect.objectContaining({ kind: 'charged', stripeObjectId: id, amount: 2500 }),
    ]);
  });

  it('a declined card fails for good with its reason; nothing is charged or recorded as charged', async () => {
    const order = await orderPaidWith('4000000000000341'); // attaches, then declines the charge
    const id = await run(() => activities.createPaymentIntent(order));
    const err = await failureOf(run(() => activities.confirmPaymentIntent(id)));
    expect(err).toMatchObject({ type: PAYMENT_ERRORS.cardDeclined, nonRetryable: true });
    expect(err.message).toMatch(/^Card declined/);
    expect((await stripe.paymentIntents.retrieve(id)).amount_received).toBe(0);
    expect(await ledger.movements(order.orderId)).toEqual([]);
  });

  it('3-D Secure: requires_action with the client secret, then a cancel that leaves the intent cancelled', async () => {
    const order = await orderPaidWith('4000002760003184');
    const id = await run(() => activities.createPaymentIntent(order));
    const confirmed = await run(() => activities.confirmPaymentIntent(id));
    expect(confirmed).toEqual({
      status: 'requires_action',
      nextAction: expect.objectContaining({
        clientSecret: expect.stringMatching(new RegExp(`^${id}_secret`)),
      }),
    });
    expect((await ledger.payment(order.orderId))?.status).toBe('requires_action');
    expect(await run(() => activities.cancelPaymentIntent(id))).toEqual({
      status: 'failed',
      failureReason: 'Payment was canceled',
    });
    expect((await stripe.paymentIntents.retrieve(id)).status).toBe('canceled');
  });

  it('a refund asked twice under one request key is one refund in Stripe and one movement in the ledger', async () => {
    const order = await orderPaidWith();
    const id = await run(() => activities.createPaymentIntent(order));
    await run(() => activities.confirmPaymentIntent(id));
    const request = {
      orderId: order.orderId,
      paymentIntentId: id,
      amount: 700,
      requestKey: `refund-${order.orderId}-x`,
    };
    const first = await run(() => activities.createRefund(request));
    expect(await run(() => activities.createRefund(request))).toBe(first);

    const refunds = await stripe.refunds.list({ payment_intent: id });
    expect(refunds.data.map((r) => [r.id, r.amount, r.metadata?.requestKey])).toEqual([
      [first, 700, request.requestKey],
    ]);
    const held = await run(() => activities.getRefundLedger(id));
    expect(held).toMatchObject({ amount: 2500, currency: 'eur', refunds: [{ id: first, amount: 700 }] });
    await run(() => activities.getRefundLedger(id)); // read again: nothing recorded twice
    expect((await ledger.movements(order.orderId)).map((m) => [m.kind, m.stripeObjectId, m.amount])).toEqual([
      ['charged', id, 2500],
      ['refunded', first, 700],
    ]);
    expect((await ledger.payment(order.orderId))?.refundedAmount).toBe(700);
  });
});
