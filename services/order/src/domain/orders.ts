import { randomUUID } from 'node:crypto';
import {
  isNotice,
  orderEvent,
  paymentEvent,
  TOPICS,
  type OrderEvent,
  type OrderEventType,
  type CaptureMethod,
  type OrderCreateEvent,
  type PaymentEvent,
} from '@paystream/common/events';
import { problems } from '@paystream/common/problem';
import { traceHeaders } from '@paystream/common/tracing';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { Order, OutboxMessage, type OrderItem } from '../db/entities';
import type { OrderView } from '../api';
import {
  arrivesEarly,
  statusAfter,
  statusesAccepting,
  type OrderStatus,
  type PaymentOutcome,
} from './order-status';
import { orderMetrics } from '../metrics';

export interface NewOrder {
  amount: number;
  currency: string;
  items: OrderItem[] | null;
  captureMethod: CaptureMethod;
}

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505';

/**
 * The order (`pending`) and its order.create event in ONE statement, so one transaction and one round trip:
 * there is never an order without its event, nor an event for an order that was rolled back. No read comes
 * first: an Idempotency-Key already used by this user is the unique index's violation, and only then is the
 * first order read and returned instead of a second.
 */
const INSERT_ORDER_AND_EVENT = `
  WITH created AS (
    INSERT INTO orders (id, user_id, amount, currency, items, status, capture_method, idempotency_key, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $9)
  )
  INSERT INTO outbox (topic, message_key, payload, headers) VALUES ($10, $1, $11::jsonb, $12::jsonb)`;

export async function createOrder(
  db: DataSource,
  userId: string,
  input: NewOrder,
  idempotencyKey: string | undefined,
): Promise<{ order: Order; replayed: boolean }> {
  const now = new Date();
  const order = db.getRepository(Order).create({
    id: randomUUID(),
    userId,
    amount: input.amount,
    currency: input.currency,
    items: input.items,
    captureMethod: input.captureMethod,
    capturedAmount: null,
    refundedAmount: 0,
    nextAction: null,
    status: 'pending',
    failureReason: null,
    paymentIntentId: null,
    idempotencyKey: idempotencyKey ?? null,
    createdAt: now,
    updatedAt: now,
  });
  const event: OrderCreateEvent = {
    eventId: randomUUID(),
    orderId: order.id,
    userId,
    amount: input.amount,
    currency: input.currency,
    captureMethod: input.captureMethod,
    createdAt: order.createdAt.toISOString(),
  };
  try {
    await db.query(INSERT_ORDER_AND_EVENT, [
      order.id,
      userId,
      order.amount,
      order.currency,
      order.items && JSON.stringify(order.items),
      order.status,
      order.captureMethod,
      order.idempotencyKey,
      order.createdAt,
      TOPICS.orderCreate,
      JSON.stringify(event),
      JSON.stringify(traceHeaders()),
    ]);
  } catch (err) {
    // This user sent this key before (or two requests with it raced): answer with the first order.
    if (idempotencyKey && isUniqueViolation(err)) {
      const existing = await findByKey(db, userId, idempotencyKey);
      if (existing) return { order: sameRequest(existing, input), replayed: true };
    }
    throw err;
  }
  // Wakes the relay so the event leaves within milliseconds. Sent after the commit, not inside it: a
  // NOTIFY in the transaction holds Postgres' global notify lock through the commit's fsync and
  // serialises every order commit. Not awaited: a lost wake-up only delays the event until the relay's
  // next poll, and the customer's answer need not wait for it.
  void db.query(`NOTIFY outbox`).catch(() => undefined);
  return { order, replayed: false };
}

function findByKey(db: DataSource, userId: string, idempotencyKey: string): Promise<Order | null> {
  return db.getRepository(Order).findOneBy({ userId, idempotencyKey });
}

/** A key reused for a different order is a client bug, not a replay. */
function sameRequest(existing: Order, input: NewOrder): Order {
  if (
    existing.amount !== input.amount ||
    existing.currency !== input.currency ||
    existing.captureMethod !== input.captureMethod
  )
    throw problems.conflict('This Idempotency-Key was already used for a different order');
  return existing;
}

export type ApplyResult =
  | 'applied'
  /** A notice (an authorization about to lapse, evidence due): for people, not for the order's status. */
  | 'notice'
  /** Arrived before the order can take it (a refund before `succeeded`): it waits, then is applied. */
  | 'deferred'
  | 'duplicate'
  | 'already-final'
  | 'unknown-order'
  | 'amount-mismatch'
  | 'amount-mismatch-again'
  /** A `succeeded` event for an order already paid with another PaymentIntent: the card was charged twice. */
  | 'second-charge';

/**
 * Applies a payment result exactly once: the event id is recorded in the same transaction as the
 * status change, and the order moves only along the transition table (domain/order-status.ts), so a
 * repeated or late event changes nothing. One that arrives early (a refund or a dispute before the
 * payment's `succeeded`) waits among the deferred events and is applied, in the order it came, once the
 * order can take it.
 */
export async function applyPaymentEvent(db: DataSource, event: PaymentEvent): Promise<ApplyResult> {
  if (isNotice(event.status)) return 'notice';
  const result = await db.transaction((tx) => applyInTransaction(tx, event));
  // The step's order.event is in the outbox: wake the relay (after the commit, as createOrder does).
  if (result === 'applied') await db.query(`NOTIFY outbox`).catch(() => undefined);
  return result;
}

async function applyInTransaction(tx: EntityManager, event: PaymentEvent): Promise<ApplyResult> {
  if (isNotice(event.status)) return 'notice';
  const outcome: PaymentOutcome = event.status;
  const captured = outcome === 'succeeded' ? (event.capturedAmount ?? event.amount) : null;
  // A payment of another amount or currency than the order's never marks it paid: a forged event or a
  // bug upstream (a capture takes at most what the order is for). Recorded among the refused, not the
  // processed, events: its id can never block a genuine one, and a redelivery is refused again without a
  // second alert.
  if (outcome === 'succeeded') {
    const [order] = await tx.query<{ amount: number; currency: string }[]>(
      `SELECT amount, currency FROM orders WHERE id = $1`,
      [event.orderId],
    );
    if (
      order &&
      (Number(order.amount) !== event.amount ||
        order.currency !== event.currency ||
        captured! > Number(order.amount))
    ) {
      const first = await tx.query<unknown[]>(
        `INSERT INTO refused_payment_events (event_id, order_id, amount, currency) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING event_id`,
        [event.eventId, event.orderId, event.amount, event.currency],
      );
      return first.length ? 'amount-mismatch' : 'amount-mismatch-again';
    }
  }
  const fresh = await tx.query<unknown[]>(
    `INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id`,
    [event.eventId],
  );
  if (!fresh.length) return 'duplicate';
  // TypeORM's postgres driver answers an UPDATE with [rows, rowCount].
  const [moved, count] = await tx.query<[{ created_at: Date }[], number]>(
    `UPDATE orders SET status = $2, failure_reason = $3, payment_intent_id = COALESCE($4, payment_intent_id),
        next_action = $6, refunded_amount = GREATEST(refunded_amount, $7),
        captured_amount = COALESCE($8, captured_amount), updated_at = now()
      WHERE id = $1 AND status = ANY($5) RETURNING created_at`,
    [
      event.orderId,
      statusAfter(outcome),
      event.failureReason ?? null,
      event.paymentIntentId ?? null,
      statusesAccepting(outcome),
      // Kept only while the customer has something to do; any later step clears it.
      outcome === 'requires_action' && event.nextAction ? JSON.stringify(event.nextAction) : null,
      // Refund events carry the running total; the larger one wins whatever order they arrive in.
      event.refundedAmount ?? 0,
      captured,
    ],
  );
  if (count === 1) {
    countOutcome(statusAfter(outcome), moved[0]!.created_at);
    await recordStep(tx, event);
    await applyDeferred(tx, event.orderId);
    return 'applied';
  }
  const [current] = await tx.query<{ payment_intent_id: string | null; status: OrderStatus }[]>(
    `SELECT payment_intent_id, status FROM orders WHERE id = $1`,
    [event.orderId],
  );
  if (!current) return 'unknown-order';
  if (
    outcome === 'succeeded' &&
    event.paymentIntentId &&
    current.payment_intent_id &&
    current.payment_intent_id !== event.paymentIntentId
  )
    return 'second-charge';
  if (arrivesEarly(current.status, outcome)) {
    // Not processed yet: its id must not block it when its turn comes.
    await tx.query(`DELETE FROM processed_events WHERE event_id = $1`, [event.eventId]);
    await tx.query(
      `INSERT INTO deferred_payment_events (event_id, order_id, payload) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
      [event.eventId, event.orderId, JSON.stringify(event)],
    );
    return 'deferred';
  }
  return 'already-final';
}

/** The merchant's name for a step: `order.<status>`, a manual order's payment `order.captured`. */
function orderEventType(status: OrderStatus, captureMethod: string): OrderEventType {
  if (status === 'paid') return captureMethod === 'manual' ? 'order.captured' : 'order.paid';
  if (status === 'partially_refunded') return 'order.refunded';
  return `order.${status}` as OrderEventType;
}

/**
 * The step the order just took, kept twice in the same transaction: in its story (`order_events`) and in the
 * outbox as an `order.event` for the merchant's event feed.
 */
async function recordStep(tx: EntityManager, event: PaymentEvent): Promise<void> {
  const [order] = await tx.query<
    {
      user_id: string;
      status: OrderStatus;
      amount: number;
      currency: string;
      capture_method: string;
      captured_amount: number | null;
      refunded_amount: number;
      payment_intent_id: string | null;
    }[]
  >(
    `SELECT user_id, status, amount, currency, capture_method, captured_amount, refunded_amount, payment_intent_id
       FROM orders WHERE id = $1`,
    [event.orderId],
  );
  if (!order) return;
  const step: OrderEvent = orderEvent.parse({
    eventId: event.eventId,
    type: orderEventType(order.status, order.capture_method),
    orderId: event.orderId,
    userId: order.user_id,
    status: order.status,
    amount: Number(order.amount),
    currency: order.currency,
    ...(order.captured_amount !== null ? { capturedAmount: Number(order.captured_amount) } : {}),
    refundedAmount: Number(order.refunded_amount),
    ...(order.payment_intent_id ? { paymentIntentId: order.payment_intent_id } : {}),
    ...(event.dispute ? { disputeId: event.dispute.id } : {}),
    occurredAt: event.occurredAt,
  });
  const detail = {
    ...(event.failureReason ? { failureReason: event.failureReason } : {}),
    ...(event.refundAmount ? { refundAmount: event.refundAmount } : {}),
    ...(event.capturedAmount ? { capturedAmount: event.capturedAmount } : {}),
    ...(event.dispute ? { dispute: event.dispute } : {}),
  };
  await tx.query(
    `INSERT INTO order_events (event_id, order_id, type, status, detail) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
    [step.eventId, step.orderId, step.type, step.status, JSON.stringify(detail)],
  );
  await tx.getRepository(OutboxMessage).insert({
    topic: TOPICS.orderEvent,
    messageKey: step.orderId,
    payload: step,
    headers: traceHeaders(),
  });
}

/** The order moved: events that waited for it are applied now, oldest first (each may move it again). */
async function applyDeferred(tx: EntityManager, orderId: string): Promise<void> {
  // A DELETE answers [rows, rowCount] too.
  const [[next]] = await tx.query<[{ event_id: string; payload: PaymentEvent; received_at: Date }[], number]>(
    `DELETE FROM deferred_payment_events WHERE event_id = (SELECT event_id FROM deferred_payment_events
       WHERE order_id = $1 ORDER BY received_at, event_id LIMIT 1) RETURNING event_id, payload, received_at`,
    [orderId],
  );
  if (!next) return;
  if ((await applyInTransaction(tx, paymentEvent.parse(next.payload))) === 'deferred') {
    // Still early (it waits for a later step than this one): back in its place, and the rest behind it.
    await tx.query(`UPDATE deferred_payment_events SET received_at = $2 WHERE event_id = $1`, [
      next.event_id,
      next.received_at,
    ]);
    return;
  }
  await applyDeferred(tx, orderId);
}

const PAYMENT_OUTCOMES: ReadonlySet<string> = new Set(['paid', 'failed', 'cancelled', 'authorized']);

/** The dashboard's orders by outcome and create → outcome latency: counted when the update moved the order, so once. */
function countOutcome(status: string, createdAt: Date): void {
  orderMetrics.orderOutcomes.inc({ status });
  if (PAYMENT_OUTCOMES.has(status))
    orderMetrics.orderPaymentSeconds.observe({ outcome: status }, (Date.now() - createdAt.getTime()) / 1000);
}

export function orderView(order: Order): OrderView {
  return {
    orderId: order.id,
    status: order.status,
    amount: order.amount,
    currency: order.currency,
    capture: order.captureMethod,
    ...(order.capturedAmount !== null ? { capturedAmount: order.capturedAmount } : {}),
    ...(order.items ? { items: order.items } : {}),
    ...(order.failureReason ? { failureReason: order.failureReason } : {}),
    ...(order.paymentIntentId ? { paymentIntentId: order.paymentIntentId } : {}),
    refundedAmount: order.refundedAmount,
    ...(order.status === 'requires_action' && order.nextAction ? { nextAction: order.nextAction } : {}),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
