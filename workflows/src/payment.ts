import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  setHandler,
  sleep,
  TemporalFailure,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { NextAction, PaymentEvent } from '@paystream/common/events';
import type { IntentState, PaymentActivities, PaymentClaim } from './payment-activities';
import { PAYMENT_ERRORS } from './payment-activities';
import {
  authorizationDeadlineSeconds,
  cancelPaymentUpdate,
  CANCEL_UPDATE_ID,
  captureUpdate,
  DEFAULT_AUTHORIZATION,
  voidUpdate,
  stripeEventSignal,
  type CancelOutcome,
  type CaptureOutcome,
  type CaptureRequest,
  type PaymentInput,
  type PaymentOptions,
  type PaymentResult,
  type StripeHint,
} from './api/payment';
import { RefundBook } from './refund-book';

/**
 * Retry policies, chosen per call:
 * - The user service is ours and fast: short backoff, give up after ~1 min (the order then fails with
 *   a reason instead of waiting forever on a missing user).
 * - Creating the PaymentIntent charges nothing, so giving up after ~10 min is safe.
 * - Confirming moves money. Once started it retries until Stripe answers (backoff capped at 1 min):
 *   giving up could report "failed" for a charge that went through. The order stays `pending` during
 *   a Stripe outage, which is the truth. Declines and authentication requests are not retried.
 */
const NON_RETRYABLE = [
  PAYMENT_ERRORS.detailsMissing,
  PAYMENT_ERRORS.cardDeclined,
  PAYMENT_ERRORS.invalidRequest,
  PAYMENT_ERRORS.authenticationRequired,
];
const userService: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '5s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
const stripeCreate: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 25,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
const stripeConfirm: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
/** The ledger is our own database: during its outage the order stays `pending` (the truth), never `failed`. */
const ledger: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '10s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [PAYMENT_ERRORS.invalidRequest],
  },
};
const kafka: ActivityOptions & LocalActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * Where each call runs. The user lookup, the ledger, creating and reading the intent, and publishing are
 * local activities: a few milliseconds each, recorded as markers in the workflow task that ran them, so a
 * payment takes two workflow tasks instead of five. The confirm and the cancel are real activities: each
 * is scheduled only once the task before it completed, so they can only ever act on an intent id that is
 * already in history (a local confirm re-run from a lost task could follow a second createPaymentIntent
 * wherever Stripe does not honour the idempotency key), and their unbounded retries wait on a task queue,
 * not inside one workflow task. Each call is picked by name: the proxies are Proxy objects, which a spread
 * would copy as empty.
 */
const calls = {
  claimPayment: proxyLocalActivities<PaymentActivities>(ledger).claimPayment,
  getPaymentDetails: proxyLocalActivities<PaymentActivities>(userService).getPaymentDetails,
  createPaymentIntent: proxyLocalActivities<PaymentActivities>(stripeCreate).createPaymentIntent,
  getPaymentIntentState: proxyLocalActivities<PaymentActivities>(stripeCreate).getPaymentIntentState,
  publishPaymentEvent: proxyLocalActivities<PaymentActivities>(kafka).publishPaymentEvent,
  confirmPaymentIntent: proxyActivities<PaymentActivities>(stripeConfirm).confirmPaymentIntent,
  cancelPaymentIntent: proxyActivities<PaymentActivities>(stripeConfirm).cancelPaymentIntent,
  // Takes money like the confirm: an activity, retried until Stripe answers.
  capturePaymentIntent: proxyActivities<PaymentActivities>(stripeConfirm).capturePaymentIntent,
};

/** Why an activity gave up, in words a customer may read. */
function reasonOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.message;
  return 'Payment could not be completed';
}

/** How long the customer has for 3-D Secure when the starter does not say (PAYMENT_AUTH_TIMEOUT). */
const DEFAULT_AUTH_TIMEOUT_SECONDS = 30 * 60;
const AUTH_NOT_COMPLETED = 'authentication not completed';
const AUTHORIZATION_LAPSED = 'authorization expired uncaptured';

/**
 * Capture later (orders with `captureMethod: 'manual'`): the payment is authorized, then held until an
 * operator captures it, the customer cancels it (a void) or its lifetime runs out. Only manual orders reach
 * this path, which no run before it could take; the marker names the histories that did.
 */
const CAPTURE = 'payment-capture';

const refusal = (message: string) => ApplicationFailure.nonRetryable(message, PAYMENT_ERRORS.captureRefused);

/**
 * One order's payment: workflow id `payment-<orderId>`, so a redelivered order.create cannot start a
 * second one. The ledger is asked first (the order's claim), so a run after Temporal forgot the order
 * charges nothing twice. The PaymentIntent id is recorded in history and in the ledger before it is
 * confirmed, so every confirm targets the same intent: at most one charge even where Stripe's idempotency
 * keys are not honoured. Its search attributes and memo are set by the starter (paymentStartOptions).
 */
export async function paymentWorkflow(
  order: PaymentInput,
  options: PaymentOptions = {},
): Promise<PaymentResult> {
  let cancelRequested = false;
  let settled: PaymentResult | undefined = undefined; // set once the outcome is published
  let refundOnCancel: Promise<CancelOutcome> | undefined;
  const manual = order.captureMethod === 'manual';
  // Manual capture: `holding` while the authorization waits; the capture asked for, and what it came to.
  let holding = false;
  let capture: Required<CaptureRequest> | undefined;
  let captured: CaptureOutcome | undefined;
  // The customer's cancel: answered once the outcome is known, with a full refund if the charge won.
  setHandler(cancelPaymentUpdate, async (): Promise<CancelOutcome> => {
    cancelRequested = true;
    await condition(() => settled !== undefined);
    const { status, paymentIntentId: intentId, failureReason } = settled!;
    if (status === 'cancelled') return { status };
    if (status === 'failed') return { status, ...(failureReason ? { failureReason } : {}) };
    refundOnCancel ??= new RefundBook(
      { orderId: order.orderId, paymentIntentId: intentId! },
      calls.publishPaymentEvent,
    )
      .refund({ requestId: CANCEL_UPDATE_ID, reason: 'requested_by_customer' })
      .then((refund) => ({ status: 'refunded', refundedAmount: refund.refundedAmount }));
    return refundOnCancel;
  });

  // An operator's capture. Everything a capture may not be is refused by the validator, before the update is
  // recorded; the same request again answers the first capture.
  setHandler(
    captureUpdate,
    async (request: CaptureRequest): Promise<CaptureOutcome> => {
      capture ??= { requestId: request.requestId, amount: request.amount ?? order.amount };
      await condition(() => captured !== undefined || settled !== undefined);
      if (captured) return captured;
      throw refusal(
        `The capture did not happen: the payment ended ${settled!.status} (${settled!.failureReason ?? 'no reason'})`,
      );
    },
    {
      validator: (request: CaptureRequest) => {
        if (!request.requestId) throw new Error('requestId is required');
        if (request.amount !== undefined && !(Number.isInteger(request.amount) && request.amount > 0))
          throw new Error('amount must be a positive whole number of minor units');
        if (capture) {
          if (capture.requestId === request.requestId) return;
          throw refusal(
            `This payment is captured already (${capture.amount} ${order.currency}); it is captured at most once`,
          );
        }
        if (!manual)
          throw refusal('This order was charged at once (automatic capture): there is nothing to capture');
        if (settled)
          throw refusal(
            settled.status === 'cancelled'
              ? `The authorization was released (${settled.failureReason ?? 'voided'}): there is nothing to capture`
              : `The payment ${settled.status === 'failed' ? 'failed' : 'is settled'}: there is nothing to capture`,
          );
        if (!holding) throw refusal('The payment is not authorized yet: there is nothing to capture');
        if (cancelRequested) throw refusal('The authorization is being voided: there is nothing to capture');
        if ((request.amount ?? order.amount) > order.amount)
          throw refusal(
            `A capture of ${request.amount} is more than the ${order.amount} ${order.currency} authorized`,
          );
      },
    },
  );

  // An operator's void: the customer's cancel of an authorized order, refused for anything else.
  setHandler(
    voidUpdate,
    async (): Promise<CancelOutcome> => {
      cancelRequested = true;
      await condition(() => settled !== undefined);
      return settled!.status === 'cancelled'
        ? { status: 'cancelled' }
        : { status: 'failed', failureReason: settled!.failureReason ?? settled!.status };
    },
    {
      validator: () => {
        if (!manual)
          throw refusal('This order was charged at once (automatic capture): there is nothing to void');
        if (capture) throw refusal('A capture was asked for: the authorization can no longer be voided');
        if (settled || !holding)
          throw refusal('The payment is not authorized (any more): there is nothing to void');
      },
    },
  );

  // Stripe's webhooks, each event id once (Stripe redelivers; the same event must not count twice).
  const hints: StripeHint[] = [];
  const seen = new Set<string>();
  setHandler(stripeEventSignal, (hint) => {
    if (seen.has(hint.eventId)) return;
    seen.add(hint.eventId);
    hints.push(hint);
  });

  let paymentIntentId: string | undefined;
  let replay: Extract<PaymentClaim, { state: 'settled' }> | undefined;
  let result: PaymentResult;
  const publish = (status: PaymentEvent['status'], extra: Partial<PaymentEvent> = {}) =>
    calls.publishPaymentEvent(
      {
        orderId: order.orderId,
        userId: order.userId,
        status,
        amount: order.amount,
        currency: order.currency,
        ...(paymentIntentId ? { paymentIntentId } : {}),
        ...extra,
        // Workflow time: Date is replay-safe inside the workflow sandbox.
        occurredAt: new Date().toISOString(),
      },
      status,
    );

  /**
   * 3-D Secure: the order shows the next action (the customer is emailed), then the workflow waits for a
   * Stripe webhook (a signal: only a hint, the intent is re-read) or the end of the authentication window
   * (a durable timer). Every way out that is not a success — the window closed, the customer failed the
   * challenge, Stripe could not be read — cancels the intent and trusts what the cancel finds: its client
   * secret is public, so an intent left open could still be charged after the order was reported failed.
   */
  async function authenticated(intentId: string, nextAction: NextAction): Promise<PaymentResult> {
    // Cancelled during the confirm: no point asking the customer to authenticate.
    if (!cancelRequested) await publish('requires_action', { nextAction });
    const deadline = Date.now() + (options.authTimeoutSeconds ?? DEFAULT_AUTH_TIMEOUT_SECONDS) * 1000;
    let failureReason = AUTH_NOT_COMPLETED;
    for (;;) {
      const left = deadline - Date.now();
      const hinted = left > 0 && (await condition(() => hints.length > 0 || cancelRequested, left));
      hints.length = 0; // taken now: a hint arriving during the read wakes the next round
      if (!hinted || cancelRequested) break;
      const state: IntentState | undefined = await calls
        .getPaymentIntentState(intentId)
        .catch((err: unknown) => {
          if (err instanceof TemporalFailure) return undefined; // Stripe unreadable: the cancel decides
          throw err;
        });
      if (state?.status === 'succeeded') return { status: 'succeeded', paymentIntentId: intentId };
      if (state?.status === 'authorized') return held(intentId);
      if (state?.status === 'pending') continue;
      if (state?.status === 'failed') failureReason = state.failureReason;
      break;
    }
    return cancelIntent(intentId, failureReason);
  }

  /**
   * Cancels the intent and trusts what the cancel finds: a charge that won the race is a payment. Ends
   * `cancelled` when the customer asked (or an authorization lapsed), `failed` otherwise.
   */
  async function cancelIntent(
    intentId: string,
    failureReason: string,
    ending: 'cancelled' | 'failed' = cancelRequested ? 'cancelled' : 'failed',
  ): Promise<PaymentResult> {
    const final = await calls.cancelPaymentIntent(intentId);
    if (final.status === 'succeeded')
      return {
        status: 'succeeded',
        paymentIntentId: intentId,
        ...(manual ? { capturedAmount: final.capturedAmount ?? order.amount } : {}),
      };
    if (ending === 'cancelled')
      return {
        status: 'cancelled',
        paymentIntentId: intentId,
        ...(cancelRequested ? {} : { failureReason }),
      };
    return { status: 'failed', paymentIntentId: intentId, failureReason };
  }

  /** Takes `amount` of the authorization; the rest of it is released. */
  async function takeCapture(intentId: string, amount: number, requestId: string): Promise<PaymentResult> {
    const done = await calls.capturePaymentIntent({
      orderId: order.orderId,
      paymentIntentId: intentId,
      amount,
      requestId,
    });
    captured = { status: 'succeeded', ...done };
    return { status: 'succeeded', paymentIntentId: intentId, capturedAmount: done.capturedAmount };
  }

  /**
   * The authorization is held: the order shows `authorized` (the customer is emailed), then the workflow
   * waits for a capture, a cancel (void), a Stripe hint (a capture or cancel made in Stripe's dashboard) or
   * its durable timers — a warning to the merchant, then the policy at the end of its lifetime.
   */
  async function held(intentId: string): Promise<PaymentResult> {
    if (!patched(CAPTURE))
      return { status: 'failed', paymentIntentId: intentId, failureReason: 'capture later is not supported' };
    holding = true;
    const policy = options.authorization ?? DEFAULT_AUTHORIZATION;
    const deadline = Date.now() + authorizationDeadlineSeconds(policy) * 1000;
    const warnAt = deadline - policy.warningSeconds * 1000;
    const authorizationExpiresAt = new Date(deadline).toISOString();
    await publish('authorized', { authorizationExpiresAt });
    let warned = warnAt <= Date.now();
    for (;;) {
      const left = (warned ? deadline : warnAt) - Date.now();
      const woke =
        capture !== undefined ||
        cancelRequested ||
        (left > 0 &&
          (await condition(() => capture !== undefined || cancelRequested || hints.length > 0, left)));
      if (capture) return takeCapture(intentId, capture.amount, capture.requestId);
      if (cancelRequested) return cancelIntent(intentId, 'cancelled');
      if (woke) {
        hints.length = 0;
        const state = await calls.getPaymentIntentState(intentId).catch((err: unknown) => {
          if (err instanceof TemporalFailure) return undefined; // unreadable: the timers still hold
          throw err;
        });
        if (state?.status === 'succeeded')
          return {
            status: 'succeeded',
            paymentIntentId: intentId,
            capturedAmount: state.capturedAmount ?? order.amount,
          };
        if (state?.status === 'failed')
          return { status: 'cancelled', paymentIntentId: intentId, failureReason: state.failureReason };
        continue;
      }
      if (!warned) {
        warned = true;
        await publish('authorization_expiring', { authorizationExpiresAt });
        continue;
      }
      if (policy.onExpiry === 'capture') return takeCapture(intentId, order.amount, 'expiry');
      return cancelIntent(intentId, AUTHORIZATION_LAPSED, 'cancelled');
    }
  }

  /** The payment, step by step; a cancel is looked at between steps (never inside the confirm). */
  async function pay(): Promise<PaymentResult> {
    const claim = await calls.claimPayment(order);
    if (claim.state === 'settled') {
      replay = claim;
      paymentIntentId = claim.paymentIntentId;
      return {
        status: claim.status,
        ...(claim.paymentIntentId ? { paymentIntentId: claim.paymentIntentId } : {}),
        ...(claim.failureReason ? { failureReason: claim.failureReason } : {}),
      };
    }
    if (claim.state === 'intent') {
      paymentIntentId = claim.paymentIntentId;
      // An intent from a run Temporal forgot may still be open (its client secret is public): cancelled.
      if (cancelRequested) return cancelIntent(paymentIntentId, 'cancelled');
    }
    if (cancelRequested) return { status: 'cancelled' };
    const created = !paymentIntentId;
    if (!paymentIntentId) {
      const card = await calls.getPaymentDetails(order.userId);
      if (cancelRequested) return { status: 'cancelled' };
      paymentIntentId = await calls.createPaymentIntent({
        orderId: order.orderId,
        userId: order.userId,
        amount: order.amount,
        currency: order.currency,
        customerId: card.stripeCustomerId,
        paymentMethodId: card.paymentMethodId,
        ...(manual ? { captureMethod: 'manual' as const } : {}),
      });
    }
    if (cancelRequested) return cancelIntent(paymentIntentId, 'cancelled');
    const confirmed = await calls.confirmPaymentIntent(paymentIntentId, { created });
    if (confirmed.status === 'succeeded') return { status: 'succeeded', paymentIntentId };
    if (confirmed.status === 'authorized') return held(paymentIntentId);
    return authenticated(paymentIntentId, confirmed.nextAction);
  }

  try {
    result = await pay();
  } catch (err) {
    // An activity that gave up: ActivityFailure around the cause; a local activity's arrives bare
    // (ApplicationFailure, TimeoutFailure). A bug in this code is not a payment failure: it rethrows.
    if (!(err instanceof TemporalFailure)) throw err;
    // The failure is in history before it is published: a local activity's result reaches history only
    // when its task completes, and a task lost on the way re-runs the local activities, which may then
    // succeed. A 1 ms timer completes the task first, so a replay can only publish this failure again.
    await sleep(1);
    result = { status: 'failed', paymentIntentId, failureReason: reasonOf(err) };
  }

  await publish(result.status, {
    ...(result.failureReason ? { failureReason: result.failureReason } : {}),
    ...(result.capturedAmount !== undefined ? { capturedAmount: result.capturedAmount } : {}),
    // Announced before: the same event again (under its first id where the ledger holds it), which every
    // consumer has applied already.
    ...(replay?.announced
      ? { replayed: true as const, ...(replay.eventId ? { eventId: replay.eventId } : {}) }
      : {}),
  });
  settled = result;
  // A cancel that arrived before the end gets its answer (and its refund) before the workflow closes.
  await condition(allHandlersFinished);
  return result;
}

// The payment worker runs the refunds and disputes of paid orders and reconciliation too (same task queue).
export { refundsWorkflow } from './refunds';
export { disputeWorkflow } from './disputes';
export { reconciliationWorkflow } from './reconciliation';
