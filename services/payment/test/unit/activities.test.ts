import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import { PAYMENT_ERRORS } from '@paystream/workflows';
import { createPaymentActivities, cutReason, stripeFailure } from '../../src/activities';
import { RecordingLedger, RecordingStripe, stripeError } from './fake-stripe';

/**
 * The payment activities over a recording Stripe port and ledger: which Stripe calls they make, with which
 * idempotency keys, in which order, and how Stripe's answers become Temporal failures. The same paths run
 * against localstripe and PostgreSQL in services/payment/test/activities.test.ts.
 */
const order = { orderId: 'order-1', userId: 'user-1', amount: 2500, currency: 'eur' };
let stripe: RecordingStripe;
let ledger: RecordingLedger;
let activities: ReturnType<typeof createPaymentActivities>;

beforeEach(() => {
  stripe = new RecordingStripe();
  ledger = new RecordingLedger();
  activities = createPaymentActivities({
    userServiceUrl: 'http://127.0.0.1:1',
    orderServiceUrl: 'http://127.0.0.1:1',
    serviceToken: 'unit',
    stripe,
    ledger,
    producer: {} as Producer,
  });
});

// The activity's own failures are what the tests look at; the environment need not log them too.
const quiet = new DefaultLogger('ERROR', () => undefined);
const run = <T>(fn: () => Promise<T>): Promise<T> =>
  new MockActivityEnvironment({}, { logger: quiet }).run<[], T, () => Promise<T>>(fn);
const failureOf = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!err) throw new Error('expected a failure');
  return err as Error;
};

describe('Stripe errors as Temporal failures', () => {
  it('a decline is final and names the decline code; the request id stays out of the reason', () => {
    const err = stripeFailure(
      stripeError({
        type: 'card_error',
        statusCode: 402,
        message: 'Your card was declined.',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
      }),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      type: PAYMENT_ERRORS.cardDeclined,
      nonRetryable: true,
      message: 'Card declined (insufficient_funds)',
    });
  });

  it("a refused request is final with Stripe's own words, without the SDK's [req_…] prefix", () => {
    const err = stripeFailure(
      stripeError({
        type: 'invalid_request_error',
        statusCode: 400,
        message: 'Amount must be at least 50 cents',
      }),
    );
    expect(err).toMatchObject({
      type: PAYMENT_ERRORS.invalidRequest,
      nonRetryable: true,
      message: 'Payment request rejected: Amount must be at least 50 cents',
    });
  });

  it('rate limits, idempotency conflicts, Stripe outages and network errors are left to retry', () => {
    for (const err of [
      stripeError({ type: 'rate_limit_error', statusCode: 429, message: 'Too many requests' }),
      stripeError({ type: 'idempotency_error', statusCode: 409, message: 'Keys in use' }),
      stripeError({ type: 'api_error', statusCode: 500, message: 'Something went wrong' }),
      new Error('socket hang up'),
    ])
      expect(stripeFailure(err)).not.toBeInstanceOf(ApplicationFailure);
  });

  it('a reason of any length is cut to what payment.event allows', () => {
    const reason = cutReason('x'.repeat(5000));
    expect(reason).toHaveLength(500);
    expect(reason.endsWith('…')).toBe(true);
    const err = stripeFailure(
      stripeError({ type: 'invalid_request_error', statusCode: 400, message: 'y'.repeat(5000) }),
    );
    expect(err.message).toHaveLength(500);
  });
});

describe('creating the intent', () => {
  const input = { ...order, customerId: 'cus_1', paymentMethodId: 'pm_1' };

  it('creates it unconfirmed under key order-<orderId> with the order in its metadata, and records it', async () => {
    const id = await run(() => activities.createPaymentIntent(input));
    expect(stripe.of('createIntent')).toEqual([
      {
        op: 'createIntent',
        key: 'order-order-1',
        params: {
          amount: 2500,
          currency: 'eur',
          customer: 'cus_1',
          payment_method: 'pm_1',
          metadata: { orderId: 'order-1', userId: 'user-1' },
        },
      },
    ]);
    expect(ledger.writes).toEqual([{ op: 'recordIntent', args: ['order-1', id] }]);
  });

  it('a retry finds the intent the ledger holds and asks Stripe nothing', async () => {
    ledger.row('order-1', { paymentIntentId: 'pi_recorded', status: 'intent_created' });
    expect(await run(() => activities.createPaymentIntent(input))).toBe('pi_recorded');
    expect(stripe.calls).toEqual([]);
  });

  it('losing the race to another attempt cancels its own intent (key cancel-<id>) and answers the recorded one', async () => {
    ledger.recordIntent = (o, _intentId) =>
      Promise.resolve({ intentId: `pi_other-${o.orderId}`, status: 'intent_created' });
    expect(await run(() => activities.createPaymentIntent(input))).toBe('pi_other-order-1');
    const [made] = [...stripe.intents.keys()];
    expect(stripe.of('cancelIntent')).toEqual([{ op: 'cancelIntent', id: made, key: `cancel-${made}` }]);
  });

  it('a payment settled meanwhile takes no intent: ours is cancelled and the attempt fails for good', async () => {
    ledger.recordIntent = () => Promise.resolve({ intentId: 'pi_paid', status: 'succeeded' });
    const err = await failureOf(run(() => activities.createPaymentIntent(input)));
    expect(err).toMatchObject({ type: PAYMENT_ERRORS.invalidRequest, nonRetryable: true });
    expect(stripe.of('cancelIntent')).toHaveLength(1);
  });
});

describe('confirming', () => {
  it('reads the intent first, then confirms it under key confirm-<id>, and records the charge', async () => {
    const intent = stripe.intent();
    expect(await run(() => activities.confirmPaymentIntent(intent.id))).toEqual({ status: 'succeeded' });
    expect(stripe.calls.map((c) => [c.op, c.key])).toEqual([
      ['retrieveIntent', undefined],
      ['confirmIntent', `confirm-${intent.id}`],
    ]);
    expect(ledger.writes).toEqual([{ op: 'recordCharge', args: ['order-1', intent.id, 2500] }]);
  });

  it('an intent this run has just created is confirmed without a read first, on the first attempt only', async () => {
    const intent = stripe.intent();
    expect(await run(() => activities.confirmPaymentIntent(intent.id, { created: true }))).toEqual({
      status: 'succeeded',
    });
    expect(stripe.calls.map((c) => c.op)).toEqual(['confirmIntent']);
    expect(ledger.writes).toEqual([{ op: 'recordCharge', args: ['order-1', intent.id, 2500] }]);
    // A retry of that confirm (its answer lost) reads first, and finds it paid: nothing is confirmed again.
    const retry = new MockActivityEnvironment({ attempt: 2 }, { logger: quiet });
    expect(await retry.run(() => activities.confirmPaymentIntent(intent.id, { created: true }))).toEqual({
      status: 'succeeded',
    });
    expect(stripe.calls.map((c) => c.op)).toEqual(['confirmIntent', 'retrieveIntent']);
  });

  it('an intent that already succeeded (a retry after a lost answer) is not confirmed again', async () => {
    const intent = stripe.intent({ status: 'succeeded', amount_received: 2500 });
    expect(await run(() => activities.confirmPaymentIntent(intent.id))).toEqual({ status: 'succeeded' });
    expect(stripe.of('confirmIntent')).toEqual([]);
    expect(ledger.writes).toEqual([{ op: 'recordCharge', args: ['order-1', intent.id, 2500] }]);
  });

  it('a card that asks for 3-D Secure answers requires_action with the client secret, confirmed once', async () => {
    const intent = stripe.intent();
    stripe.next.confirmIntent = 'requires_action';
    const first = await run(() => activities.confirmPaymentIntent(intent.id));
    expect(first).toEqual({
      status: 'requires_action',
      nextAction: { type: 'use_stripe_sdk', clientSecret: intent.client_secret },
    });
    // The retry of an activity whose answer was lost: the customer is already being asked.
    expect(await run(() => activities.confirmPaymentIntent(intent.id))).toEqual(first);
    expect(stripe.of('confirmIntent')).toHaveLength(1);
  });

  it('a confirm whose answer is lost but which charged is a success, not a second confirm', async () => {
    const intent = stripe.intent();
    stripe.next.confirmIntent = new Error('socket hang up');
    stripe.confirmIntent = function (id, key) {
      Object.assign(this.intents.get(id)!, { status: 'succeeded', amount_received: 2500 });
      return RecordingStripe.prototype.confirmIntent.call(this, id, key);
    };
    expect(await run(() => activities.confirmPaymentIntent(intent.id))).toEqual({ status: 'succeeded' });
    expect(stripe.of('retrieveIntent')).toHaveLength(2);
  });

  it('a declined card fails the confirm for good', async () => {
    const intent = stripe.intent();
    stripe.next.confirmIntent = stripeError({
      type: 'card_error',
      statusCode: 402,
      message: 'Your card was declined.',
      code: 'card_declined',
    });
    const err = await failureOf(run(() => activities.confirmPaymentIntent(intent.id)));
    expect(err).toMatchObject({ type: PAYMENT_ERRORS.cardDeclined, nonRetryable: true });
  });

  it('a cancelled intent is never confirmed', async () => {
    const intent = stripe.intent({ status: 'canceled' });
    const err = await failureOf(run(() => activities.confirmPaymentIntent(intent.id)));
    expect(err).toMatchObject({ type: PAYMENT_ERRORS.invalidRequest, nonRetryable: true });
    expect(stripe.of('confirmIntent')).toEqual([]);
  });
});

describe('cancelling', () => {
  it('cancels an open intent under key cancel-<id>', async () => {
    const intent = stripe.intent({ status: 'requires_action' });
    expect(await run(() => activities.cancelPaymentIntent(intent.id))).toEqual({
      status: 'failed',
      failureReason: 'Payment was canceled',
    });
    expect(stripe.of('cancelIntent')).toEqual([
      { op: 'cancelIntent', id: intent.id, key: `cancel-${intent.id}` },
    ]);
  });

  it('answers a charge that won the race instead of cancelling it', async () => {
    const intent = stripe.intent({ status: 'succeeded', amount_received: 2500 });
    expect(await run(() => activities.cancelPaymentIntent(intent.id))).toEqual({ status: 'succeeded' });
    expect(stripe.of('cancelIntent')).toEqual([]);
  });
});

describe('refunds', () => {
  it('the refund ledger counts succeeded and pending refunds, oldest first; only succeeded ones are recorded', async () => {
    const intent = stripe.intent({ status: 'succeeded', amount_received: 2500 });
    const pending = stripe.refund({ payment_intent: intent.id, amount: 300, status: 'pending', created: 20 });
    stripe.refund({ payment_intent: intent.id, amount: 900, status: 'failed', created: 5 });
    const first = stripe.refund({
      payment_intent: intent.id,
      amount: 500,
      created: 10,
      metadata: { requestKey: 'refund-order-1-a' },
    });
    const refunds = await run(() => activities.getRefundLedger(intent.id));
    expect(refunds).toEqual({
      amount: 2500,
      currency: 'eur',
      userId: 'user-1',
      refunds: [
        { id: first.id, amount: 500, created: 10, requestKey: 'refund-order-1-a' },
        { id: pending.id, amount: 300, created: 20 },
      ],
    });
    expect(ledger.writes).toEqual([{ op: 'recordRefunds', args: ['order-1', [first.id]] }]);
  });

  it('a request whose refund exists already answers it and refunds nothing more', async () => {
    const made = stripe.refund({ payment_intent: 'pi_1', metadata: { requestKey: 'refund-order-1-a' } });
    const id = await run(() =>
      activities.createRefund({
        orderId: 'order-1',
        paymentIntentId: 'pi_1',
        amount: 500,
        requestKey: 'refund-order-1-a',
      }),
    );
    expect(id).toBe(made.id);
    expect(stripe.of('createRefund')).toEqual([]);
  });

  it('refunds under the request key; after a refund that failed at Stripe, under a key of its own', async () => {
    const request = {
      orderId: 'order-1',
      paymentIntentId: 'pi_1',
      amount: 500,
      requestKey: 'refund-order-1-b',
      reason: 'damaged',
    };
    await run(() => activities.createRefund(request));
    stripe.refunds[0]!.status = 'failed';
    await run(() => activities.createRefund(request));
    expect(stripe.of('createRefund').map((c) => [c.key, c.params])).toEqual([
      [
        'refund-order-1-b',
        {
          payment_intent: 'pi_1',
          amount: 500,
          metadata: { orderId: 'order-1', requestKey: 'refund-order-1-b', reason: 'damaged' },
        },
      ],
      ['refund-order-1-b-again-1', expect.objectContaining({ amount: 500 })],
    ]);
  });

  it('a refund Stripe did not make fails the request for good', async () => {
    stripe.next.createRefund = 'failed';
    const err = await failureOf(
      run(() =>
        activities.createRefund({
          orderId: 'order-1',
          paymentIntentId: 'pi_1',
          amount: 500,
          requestKey: 'refund-order-1-c',
        }),
      ),
    );
    expect(err).toMatchObject({ type: PAYMENT_ERRORS.refundRefused, nonRetryable: true });
  });
});
