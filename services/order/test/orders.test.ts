import { randomUUID } from 'node:crypto';
import { initDataSource } from '@paystream/common/db';
import { TOPICS, type OrderCreateEvent, type PaymentEvent } from '@paystream/common/events';
import { createKafka, createProducer, publishJson } from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { orderDataSource } from '../src/db/data-source';
import { applyPaymentEvent, createOrder } from '../src/domain/orders';
import { OutboxRelay } from '../src/events/outbox-relay';
import { consumePaymentEvents } from '../src/events/payment-consumer';
import { orderMetrics } from '../src/metrics';
import { cfg, collectTopic, eventually } from '../../../test/support';

/** The order service's guarantees on the real Postgres and Kafka. */
const logger = createLogger('order-test', 'silent');
let db: DataSource;
let producer: Producer;
const kafka = createKafka('order-test', cfg);

const newOrder = (userId = randomUUID()) =>
  createOrder(
    db,
    userId,
    { amount: 1000, currency: 'usd', items: null, captureMethod: 'automatic' },
    undefined,
  ).then((r) => r.order);

const paymentEventFor = (orderId: string, userId: string, status: PaymentEvent['status']): PaymentEvent => ({
  eventId: randomUUID(),
  orderId,
  userId,
  status,
  amount: 1000,
  currency: 'usd',
  ...(status === 'succeeded' ? { paymentIntentId: 'pi_test' } : { failureReason: 'Card declined' }),
  occurredAt: new Date().toISOString(),
});

beforeAll(async () => {
  db = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  producer = createProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await db.destroy();
});

describe('outbox', () => {
  it('writes the order and its order.create event together, and the relay publishes it once', async () => {
    const order = await newOrder();
    const [row] = await db.query<{ payload: OrderCreateEvent; published_at: Date | null }[]>(
      `SELECT payload, published_at FROM outbox WHERE message_key = $1`,
      [order.id],
    );
    expect(row!.payload).toMatchObject({
      orderId: order.id,
      userId: order.userId,
      amount: 1000,
      currency: 'usd',
    });

    const seen = await collectTopic(TOPICS.orderCreate, (k) => k === order.id);
    const relay = new OutboxRelay(db, producer, logger, { databaseUrl: cfg.ORDER_DATABASE_URL });
    await relay.start();
    try {
      const [message] = await seen.waitFor(1, 15_000, 1500);
      expect(seen.messages).toHaveLength(1);
      expect(JSON.parse(message!.value)).toEqual(row!.payload);
      const [after] = await db.query<{ published_at: Date | null }[]>(
        `SELECT published_at FROM outbox WHERE message_key = $1`,
        [order.id],
      );
      expect(after!.published_at).not.toBeNull();
    } finally {
      await relay.stop();
      await seen.stop();
    }
  });

  it('loses nothing across a relay restart: orders written while it was down each go out once', async () => {
    const userId = randomUUID();
    const written: string[] = [];
    for (let i = 0; i < 5; i++) written.push((await newOrder(userId)).id);
    const ids = new Set(written);
    const seen = await collectTopic(TOPICS.orderCreate, (k) => k !== null && ids.has(k));
    const relay = new OutboxRelay(db, producer, logger, {
      databaseUrl: cfg.ORDER_DATABASE_URL,
      batchSize: 2,
    });
    await relay.start();
    try {
      await seen.waitFor(5, 15_000, 1000);
      expect(seen.messages.map((m) => m.key).sort()).toEqual([...written].sort());
    } finally {
      await relay.stop();
      await seen.stop();
    }
  });

  it('wakes on NOTIFY: an order committed while the relay idles leaves in well under the poll interval', async () => {
    const relay = new OutboxRelay(db, producer, logger, {
      databaseUrl: cfg.ORDER_DATABASE_URL,
      idlePollMs: 30_000,
    });
    await relay.start();
    await new Promise((r) => setTimeout(r, 500)); // let it drain and fall asleep
    try {
      const order = await newOrder();
      const seen = await collectTopic(TOPICS.orderCreate, (k) => k === order.id);
      await seen.waitFor(1, 10_000);
      await seen.stop();
    } finally {
      await relay.stop();
    }
  });
});

describe('payment results', () => {
  it('takes refunds in any order: the larger running total wins, and refunded is final', async () => {
    const order = await newOrder();
    const event = (status: PaymentEvent['status'], refundedAmount?: number) => ({
      ...paymentEventFor(order.id, order.userId, status),
      ...(refundedAmount ? { refundAmount: 100, refundedAmount } : {}),
    });
    expect(await applyPaymentEvent(db, event('succeeded'))).toBe('applied');
    expect(await applyPaymentEvent(db, event('partially_refunded', 300))).toBe('applied');
    // An older partial refund redelivered late does not lower the total.
    expect(await applyPaymentEvent(db, event('partially_refunded', 100))).toBe('applied');
    const row = async () =>
      (
        await db.query<{ status: string; refunded_amount: number }[]>(
          `SELECT status, refunded_amount FROM orders WHERE id = $1`,
          [order.id],
        )
      )[0];
    expect(await row()).toEqual({ status: 'partially_refunded', refunded_amount: 300 });
    expect(await applyPaymentEvent(db, event('refunded', order.amount))).toBe('applied');
    expect(await applyPaymentEvent(db, event('partially_refunded', 400))).toBe('already-final');
    expect(await row()).toEqual({ status: 'refunded', refunded_amount: order.amount });
  });

  it('holds a refund and a dispute that arrive before the payment, and applies them in order once it is paid', async () => {
    const order = await newOrder();
    const event = (status: PaymentEvent['status'], extra: Partial<PaymentEvent> = {}) => ({
      ...paymentEventFor(order.id, order.userId, status),
      ...extra,
    });
    const refund = event('partially_refunded', { refundAmount: 200, refundedAmount: 200 });
    const dispute = event('disputed', {
      dispute: { id: 'dp_early', status: 'needs_response', reason: 'fraudulent', amount: 800 },
    });
    expect(await applyPaymentEvent(db, refund)).toBe('deferred');
    expect(await applyPaymentEvent(db, dispute)).toBe('deferred');
    expect(await applyPaymentEvent(db, refund)).toBe('deferred'); // a redelivery waits once, not twice
    const row = async () =>
      (
        await db.query<{ status: string; refunded_amount: number; deferred: number }[]>(
          `SELECT status, refunded_amount,
              (SELECT count(*)::int FROM deferred_payment_events WHERE order_id = $1) AS deferred
             FROM orders WHERE id = $1`,
          [order.id],
        )
      )[0];
    expect(await row()).toEqual({ status: 'pending', refunded_amount: 0, deferred: 2 });
    expect(await applyPaymentEvent(db, event('succeeded'))).toBe('applied');
    expect(await row()).toEqual({ status: 'disputed', refunded_amount: 200, deferred: 0 });
    // Applied once: a late redelivery of either is a duplicate now.
    expect(await applyPaymentEvent(db, refund)).toBe('duplicate');
    expect(await applyPaymentEvent(db, dispute)).toBe('duplicate');
  });

  it('an authorized order is paid with what was captured; a dispute lost is final', async () => {
    const { order } = await createOrder(
      db,
      randomUUID(),
      { amount: 1000, currency: 'usd', items: null, captureMethod: 'manual' },
      undefined,
    );
    const event = (status: PaymentEvent['status'], extra: Partial<PaymentEvent> = {}) => ({
      ...paymentEventFor(order.id, order.userId, status),
      ...extra,
    });
    expect(await applyPaymentEvent(db, event('authorized'))).toBe('applied');
    expect(await applyPaymentEvent(db, event('authorization_expiring'))).toBe('notice');
    // A capture of more than the order is refused like any payment of another amount.
    expect(await applyPaymentEvent(db, event('succeeded', { capturedAmount: 1001 }))).toBe('amount-mismatch');
    expect(await applyPaymentEvent(db, event('succeeded', { capturedAmount: 700 }))).toBe('applied');
    const dispute = { id: 'dp_x', status: 'needs_response', reason: 'fraudulent', amount: 700 };
    expect(await applyPaymentEvent(db, event('disputed', { dispute }))).toBe('applied');
    expect(await applyPaymentEvent(db, event('dispute_lost', { dispute }))).toBe('applied');
    expect(await applyPaymentEvent(db, event('refunded', { refundedAmount: 700 }))).toBe('already-final');
    const [row] = await db.query<{ status: string; captured_amount: number; capture_method: string }[]>(
      `SELECT status, captured_amount, capture_method FROM orders WHERE id = $1`,
      [order.id],
    );
    expect(row).toEqual({ status: 'dispute_lost', captured_amount: 700, capture_method: 'manual' });
  });

  it('moves pending → paid once; duplicates and late events change nothing', async () => {
    const order = await newOrder();
    const paid = paymentEventFor(order.id, order.userId, 'succeeded');
    expect(await applyPaymentEvent(db, paid)).toBe('applied');
    expect(await applyPaymentEvent(db, paid)).toBe('duplicate');
    expect(await applyPaymentEvent(db, paymentEventFor(order.id, order.userId, 'failed'))).toBe(
      'already-final',
    );
    expect(await applyPaymentEvent(db, paymentEventFor(randomUUID(), order.userId, 'failed'))).toBe(
      'unknown-order',
    );
    const [row] = await db.query<
      { status: string; payment_intent_id: string; failure_reason: string | null }[]
    >(`SELECT status, payment_intent_id, failure_reason FROM orders WHERE id = $1`, [order.id]);
    expect(row).toEqual({ status: 'paid', payment_intent_id: 'pi_test', failure_reason: null });
  });

  it('consumes payment.event from Kafka exactly once per event and parks malformed messages', async () => {
    const order = await newOrder();
    const failed = paymentEventFor(order.id, order.userId, 'failed');
    const groupId = `order-test-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const badKey = randomUUID();
    const parked = await collectTopic(TOPICS.parked, (k) => k === badKey);
    // A new group reading only what arrives from now on: the topic's history is other tests' business.
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    await consumePaymentEvents({ consumer, producer, db, logger, groupId, fromBeginning: false });
    try {
      await joined;
      await new Promise((r) => setTimeout(r, 1000));
      await producer.send({
        topic: TOPICS.paymentEvent,
        messages: [{ key: badKey, value: '{"status":"paid?"}' }],
      });
      await publishJson(producer, TOPICS.paymentEvent, order.id, failed);
      await publishJson(producer, TOPICS.paymentEvent, order.id, failed); // redelivery
      await eventually(async () => {
        const [row] = await db.query<{ status: string }[]>(`SELECT status FROM orders WHERE id = $1`, [
          order.id,
        ]);
        if (row!.status !== 'failed') throw new Error(row!.status);
      });
      const [p] = await parked.waitFor(1);
      expect(JSON.parse(p!.value)).toMatchObject({
        consumerGroup: groupId,
        reason: expect.stringContaining('eventId'),
      });
      const [count] = await db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM processed_events WHERE event_id = $1`,
        [failed.eventId],
      );
      expect(count!.n).toBe(1);
    } finally {
      await consumer.disconnect();
      await parked.stop();
    }
  });

  it('refuses a payment of another amount or currency: order unchanged, event recorded, parked and counted once', async () => {
    const order = await newOrder();
    const paid = paymentEventFor(order.id, order.userId, 'succeeded');
    const forged = [
      { ...paid, eventId: randomUUID(), amount: 1 },
      { ...paid, eventId: randomUUID(), currency: 'eur' },
    ];
    const groupId = `order-test-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const parked = await collectTopic(TOPICS.parked, (k) => k === order.id);
    const refusedBefore = await refusedCount();
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    await consumePaymentEvents({ consumer, producer, db, logger, groupId, fromBeginning: false });
    try {
      await joined;
      await new Promise((r) => setTimeout(r, 1000));
      for (const event of forged) await publishJson(producer, TOPICS.paymentEvent, order.id, event);
      await publishJson(producer, TOPICS.paymentEvent, order.id, forged[0]); // redelivery: no second alert
      const refusals = await parked.waitFor(2);
      expect(refusals.map((m) => JSON.parse(m.value) as unknown)).toEqual([
        expect.objectContaining({ consumerGroup: groupId, reason: expect.stringContaining('1 usd') }),
        expect.objectContaining({ reason: expect.stringContaining('1000 eur') }),
      ]);
      const status = async () =>
        (await db.query<{ status: string }[]>(`SELECT status FROM orders WHERE id = $1`, [order.id]))[0]!
          .status;
      expect(await status()).toBe('pending');
      // Neither forged id was recorded as processed: the genuine event still applies. One key, one
      // partition, in order: once it has, the redelivery before it was handled too.
      await publishJson(producer, TOPICS.paymentEvent, order.id, paid);
      await eventually(async () => {
        const now = await status();
        if (now !== 'paid') throw new Error(now);
      });
      const refused = await db.query<{ event_id: string }[]>(
        `SELECT event_id FROM refused_payment_events WHERE order_id = $1 ORDER BY refused_at`,
        [order.id],
      );
      expect(refused.map((r) => r.event_id)).toEqual(forged.map((e) => e.eventId));
      expect(parked.messages).toHaveLength(2);
      expect(await refusedCount()).toBe(refusedBefore + 2);
    } finally {
      await consumer.disconnect();
      await parked.stop();
    }
  });

  it('alarms once on a succeeded event for an order already paid with another intent, and keeps the first', async () => {
    const order = await newOrder();
    const paid = paymentEventFor(order.id, order.userId, 'succeeded');
    const second = { ...paid, eventId: randomUUID(), paymentIntentId: 'pi_second' };
    const groupId = `order-test-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const alarmsBefore = (await orderMetrics.secondCharges.get()).values[0]?.value ?? 0;
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    await consumePaymentEvents({ consumer, producer, db, logger, groupId, fromBeginning: false });
    try {
      await joined;
      await new Promise((r) => setTimeout(r, 1000));
      for (const event of [paid, second, second])
        await publishJson(producer, TOPICS.paymentEvent, order.id, event);
      await eventually(async () => {
        const [row] = await db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM processed_events WHERE event_id = ANY($1)`,
          [[paid.eventId, second.eventId]],
        );
        if (row!.n !== 2) throw new Error(`${row!.n} of 2 processed`);
      });
      await new Promise((r) => setTimeout(r, 500)); // the redelivery after it
      const [row] = await db.query<{ status: string; payment_intent_id: string }[]>(
        `SELECT status, payment_intent_id FROM orders WHERE id = $1`,
        [order.id],
      );
      expect(row).toEqual({ status: 'paid', payment_intent_id: 'pi_test' });
      expect((await orderMetrics.secondCharges.get()).values[0]?.value).toBe(alarmsBefore + 1);
    } finally {
      await consumer.disconnect();
    }
  });
});

async function refusedCount(): Promise<number> {
  const metric = await orderMetrics.paymentEventsRefused.get();
  return metric.values.find((v) => v.labels.reason === 'amount_mismatch')?.value ?? 0;
}
