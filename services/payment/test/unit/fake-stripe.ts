import Stripe from 'stripe';
import type { ActivityLedger } from '../../src/activities';
import type { PaymentRow } from '../../src/ledger/ledger';
import type { StripePort } from '../../src/stripe-port';

/** A call the activities made of Stripe, with the idempotency key they chose. */
export interface StripeCall {
  op: keyof StripePort;
  id?: string;
  key?: string;
  params?: unknown;
}

/**
 * Stripe as far as the activities see it, in memory, recording every call: the unit tests' stand-in for
 * the port (the integration tests use the SDK against localstripe). `next` scripts what a call does next:
 * a state the intent moves to, or an error Stripe answers with (built by the SDK's own error classes).
 */
export class RecordingStripe implements StripePort {
  readonly calls: StripeCall[] = [];
  readonly intents = new Map<string, Stripe.PaymentIntent>();
  readonly refunds: Stripe.Refund[] = [];
  readonly disputes: Stripe.Dispute[] = [];
  /** What the next call of an operation does instead of the default: an error, or the intent's new status. */
  readonly next: Partial<Record<keyof StripePort, Error | Stripe.PaymentIntent.Status>> = {};
  private seq = 0;

  intent(fields: Partial<Stripe.PaymentIntent> = {}): Stripe.PaymentIntent {
    const intent = {
      id: `pi_${++this.seq}`,
      object: 'payment_intent',
      amount: 2500,
      amount_received: 0,
      currency: 'eur',
      status: 'requires_confirmation',
      client_secret: `pi_${this.seq}_secret_x`,
      created: 1_800_000_000 + this.seq,
      metadata: { orderId: 'order-1', userId: 'user-1' },
      latest_charge: null,
      next_action: null,
      last_payment_error: null,
      ...fields,
    } as Stripe.PaymentIntent;
    this.intents.set(intent.id, intent);
    return intent;
  }

  refund(fields: Partial<Stripe.Refund>): Stripe.Refund {
    const refund = {
      id: `re_${++this.seq}`,
      object: 'refund',
      amount: 500,
      currency: 'eur',
      status: 'succeeded',
      created: 1_800_000_000 + this.seq,
      metadata: {},
      ...fields,
    } as Stripe.Refund;
    this.refunds.push(refund);
    return refund;
  }

  private take(op: keyof StripePort): Stripe.PaymentIntent.Status | undefined {
    const next = this.next[op];
    delete this.next[op];
    if (next instanceof Error) throw next;
    return next;
  }

  private known(id: string): Stripe.PaymentIntent {
    const intent = this.intents.get(id);
    if (!intent)
      throw stripeError({
        type: 'invalid_request_error',
        statusCode: 404,
        message: `No such payment_intent: '${id}'`,
      });
    return intent;
  }

  createIntent(params: Stripe.PaymentIntentCreateParams, key: string) {
    this.calls.push({ op: 'createIntent', key, params });
    this.take('createIntent');
    return Promise.resolve(
      this.intent({
        amount: params.amount,
        currency: params.currency,
        metadata: { ...params.metadata } as Stripe.Metadata,
      }),
    );
  }

  retrieveIntent(id: string) {
    this.calls.push({ op: 'retrieveIntent', id });
    this.take('retrieveIntent');
    return Promise.resolve({ ...this.known(id) });
  }

  confirmIntent(id: string, key: string) {
    this.calls.push({ op: 'confirmIntent', id, key });
    const intent = this.known(id);
    const status = this.take('confirmIntent') ?? 'succeeded';
    Object.assign(intent, { status, amount_received: status === 'succeeded' ? intent.amount : 0 });
    if (status === 'requires_action') intent.next_action = { type: 'use_stripe_sdk' };
    return Promise.resolve({ ...intent });
  }

  cancelIntent(id: string, key: string) {
    this.calls.push({ op: 'cancelIntent', id, key });
    const intent = this.known(id);
    Object.assign(intent, { status: this.take('cancelIntent') ?? 'canceled' });
    return Promise.resolve({ ...intent });
  }

  captureIntent(id: string, amount: number | undefined, key: string) {
    this.calls.push({ op: 'captureIntent', id, key, params: { amount } });
    const intent = this.known(id);
    Object.assign(intent, {
      status: this.take('captureIntent') ?? 'succeeded',
      amount_received: amount ?? intent.amount,
    });
    // Stripe refunds what it does not capture.
    if (intent.amount_received < intent.amount)
      this.refund({ payment_intent: id, amount: intent.amount - intent.amount_received });
    return Promise.resolve({ ...intent });
  }

  async *disputesOf(intentId: string) {
    this.calls.push({ op: 'disputesOf', id: intentId });
    for (const d of this.disputes) if (d.payment_intent === intentId) yield await Promise.resolve(d);
  }

  retrieveDispute(id: string) {
    this.calls.push({ op: 'retrieveDispute', id });
    const d = this.disputes.find((x) => x.id === id);
    if (!d)
      throw stripeError({
        type: 'invalid_request_error',
        statusCode: 404,
        message: `No such dispute: '${id}'`,
      });
    return Promise.resolve(d);
  }

  async *refundsOf(intentId: string) {
    this.calls.push({ op: 'refundsOf', id: intentId });
    this.take('refundsOf');
    for (const r of this.refunds) if (r.payment_intent === intentId) yield await Promise.resolve(r);
  }

  createRefund(params: Stripe.RefundCreateParams, key: string) {
    this.calls.push({ op: 'createRefund', key, params });
    const status = this.take('createRefund') as Stripe.Refund['status'] | undefined;
    return Promise.resolve(
      this.refund({
        payment_intent: params.payment_intent,
        amount: params.amount!,
        metadata: { ...params.metadata } as Stripe.Metadata,
        status: status ?? 'succeeded',
      }),
    );
  }

  /** The calls of one kind, in order. */
  of(op: keyof StripePort): StripeCall[] {
    return this.calls.filter((c) => c.op === op);
  }
}

/** An error as the SDK raises it for Stripe's answer (request id and all). */
export function stripeError(raw: {
  type: 'card_error' | 'invalid_request_error' | 'api_error' | 'rate_limit_error' | 'idempotency_error';
  statusCode: number;
  message: string;
  code?: string;
  decline_code?: string;
}): Error {
  return Stripe.errors.StripeError.generate({ ...raw, requestId: 'req_unit' });
}

/**
 * The ledger's answers the activities branch on, in memory: the payment row per order, and every write
 * recorded. (The ledger's own SQL is tested against PostgreSQL: services/payment/test/activities.test.ts.)
 */
export class RecordingLedger implements ActivityLedger {
  readonly rows = new Map<string, PaymentRow>();
  readonly writes: { op: string; args: unknown[] }[] = [];

  row(orderId: string, fields: Partial<PaymentRow> = {}): PaymentRow {
    const row: PaymentRow = {
      orderId,
      userId: 'user-1',
      amount: 2500,
      currency: 'eur',
      captureMethod: 'automatic',
      captureRequestId: null,
      paymentIntentId: null,
      status: 'claimed',
      capturedAmount: 0,
      refundedAmount: 0,
      failureReason: null,
      outcomeEventId: null,
      outcomeAt: null,
      createdAt: new Date(0),
      updatedAt: new Date(0),
      ...fields,
    };
    this.rows.set(orderId, row);
    return row;
  }

  claim(order: { orderId: string }) {
    const fresh = !this.rows.has(order.orderId);
    const row = this.rows.get(order.orderId) ?? this.row(order.orderId);
    return Promise.resolve({ row, fresh });
  }
  epoch() {
    return Promise.resolve(new Date(0));
  }
  payment(orderId: string) {
    return Promise.resolve(this.rows.get(orderId));
  }
  recordIntent(order: { orderId: string }, intentId: string) {
    this.writes.push({ op: 'recordIntent', args: [order.orderId, intentId] });
    const row = this.rows.get(order.orderId) ?? this.row(order.orderId);
    if (!row.paymentIntentId) Object.assign(row, { paymentIntentId: intentId, status: 'intent_created' });
    return Promise.resolve({ intentId: row.paymentIntentId, status: row.status });
  }
  recordRequiresAction(orderId: string) {
    this.writes.push({ op: 'recordRequiresAction', args: [orderId] });
    return Promise.resolve();
  }
  recordCharge(charge: { orderId: string; paymentIntentId: string; amount: number }) {
    this.writes.push({ op: 'recordCharge', args: [charge.orderId, charge.paymentIntentId, charge.amount] });
    return Promise.resolve(true);
  }
  recordOutcome(outcome: { orderId: string; status: 'succeeded' | 'failed' | 'cancelled' }) {
    this.writes.push({ op: 'recordOutcome', args: [outcome.orderId, outcome.status] });
    return Promise.resolve(outcome.status);
  }
  recordAuthorization(held: { orderId: string; paymentIntentId: string; amount: number }) {
    this.writes.push({ op: 'recordAuthorization', args: [held.orderId, held.paymentIntentId, held.amount] });
    return Promise.resolve();
  }
  recordCapture(c: {
    orderId: string;
    paymentIntentId: string;
    captured: number;
    released: number;
    releasedBy: string;
  }) {
    this.writes.push({
      op: 'recordCapture',
      args: [c.orderId, c.paymentIntentId, c.captured, c.released, c.releasedBy],
    });
    return Promise.resolve();
  }
  recordRelease(r: { orderId: string; paymentIntentId: string; amount: number }) {
    this.writes.push({ op: 'recordRelease', args: [r.orderId, r.paymentIntentId, r.amount] });
    return Promise.resolve();
  }
  paymentByIntent(intentId: string) {
    return Promise.resolve([...this.rows.values()].find((r) => r.paymentIntentId === intentId));
  }
  recordDispute(d: { disputeId: string; orderId: string; status: string; open: boolean }) {
    this.writes.push({ op: 'recordDispute', args: [d.disputeId, d.orderId, d.status, d.open] });
    return Promise.resolve();
  }
  recordRefunds(orderId: string, refunds: { id: string }[]) {
    this.writes.push({ op: 'recordRefunds', args: [orderId, refunds.map((r) => r.id)] });
    return Promise.resolve(refunds.length);
  }
}
