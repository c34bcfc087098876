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
  upsertMemo,
  upsertSearchAttributes,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { NextAction, PaymentEvent } from '@paystream/common/events';
import type { IntentState, PaymentActivities, PaymentClaim, PaymentMethodRef } from './payment-activities';
import { PAYMENT_ERRORS } from './payment-activities';
import {
  cancelPaymentUpdate,
  CANCEL_UPDATE_ID,
  stripeEventSignal,
  type CancelOutcome,
  type PaymentInput,
  type PaymentOptions,
  type PaymentResult,
  type StripeHint,
} from './api/payment';
import { RefundBook } from './refund-book';
import { ORDER_ID, USER_ID } from './api/search-attributes';

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
 * Local activities: each call is a few milliseconds of HTTP, so it runs in the worker that runs the
 * workflow and is recorded as one marker, instead of a round trip through a task queue. A payment
 * takes two workflow tasks instead of five, which is what bounded throughput (the Temporal server's
 * persistence and the worker's activations). Retries and timeouts are the same; a worker crash
 * re-runs the unrecorded calls, as it would an activity.
 * Workflows started before this change (no LOCAL_ACTIVITIES marker) replay on activities.
 *
 * The confirm stays a real activity (CONFIRM_ACTIVITY). Local activity results reach history only
 * when the workflow task completes, so with a local confirm a worker killed after the charge but
 * before that moment replayed from the start: a second createPaymentIntent and a second charge
 * wherever Stripe does not honour the idempotency key (localstripe never does; Stripe keeps keys for
 * 24 h). The chaos suite's payment kill found it. Scheduling the confirm completes the task
 * that records the intent id, so the confirm can only run against an intent already in history;
 * its unbounded retries also belong on a task queue rather than inside one workflow task.
 * Workflows with local activities but no CONFIRM_ACTIVITY marker replay on the local confirm.
 */
const LOCAL_ACTIVITIES = 'payment-local-activities';
const CONFIRM_ACTIVITY = 'payment-confirm-activity';
// Each call picked by name: the proxies are Proxy objects, which a spread would copy as empty.
const remote = {
  claimPayment: proxyActivities<PaymentActivities>(ledger).claimPayment,
  getPaymentIntentState: proxyActivities<PaymentActivities>(stripeCreate).getPaymentIntentState,
  cancelPaymentIntent: proxyActivities<PaymentActivities>(stripeConfirm).cancelPaymentIntent,
  getPaymentDetails: proxyActivities<PaymentActivities>(userService).getPaymentDetails,
  createPaymentIntent: proxyActivities<PaymentActivities>(stripeCreate).createPaymentIntent,
  confirmPaymentIntent: proxyActivities<PaymentActivities>(stripeConfirm).confirmPaymentIntent,
  publishPaymentEvent: proxyActivities<PaymentActivities>(kafka).publishPaymentEvent,
};
const local = {
  claimPayment: proxyLocalActivities<PaymentActivities>(ledger).claimPayment,
  getPaymentIntentState: proxyLocalActivities<PaymentActivities>(stripeCreate).getPaymentIntentState,
  // A cancel is as final as a confirm: a task queue's retries, never a re-run from a replayed task.
  cancelPaymentIntent: remote.cancelPaymentIntent,
  getPaymentDetails: proxyLocalActivities<PaymentActivities>(userService).getPaymentDetails,
  createPaymentIntent: proxyLocalActivities<PaymentActivities>(stripeCreate).createPaymentIntent,
  confirmPaymentIntent: proxyLocalActivities<PaymentActivities>(stripeConfirm).confirmPaymentIntent,
  publishPaymentEvent: proxyLocalActivities<PaymentActivities>(kafka).publishPaymentEvent,
};

/** The calls this run makes, by the patches its history holds (a new run takes the newest). */
function callsFor(): typeof local {
  if (!patched(LOCAL_ACTIVITIES)) return remote;
  if (!patched(CONFIRM_ACTIVITY)) return local;
  return { ...local, confirmPaymentIntent: remote.confirmPaymentIntent };
}

/** Why an activity gave up, in words a customer may read. */
function reasonOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.message;
  return 'Payment could not be completed';
}

/**
 * 3-D Secure (patch THREE_DS). Before it, a card that asked for authentication failed the order. Now
 * the workflow publishes `requires_action` (the order shows the next action, the customer is emailed),
 * then waits for a Stripe webhook (a signal) or the authentication window (a durable timer). A signal
 * is only a hint: the intent is re-read from Stripe and only its state decides. When the window closes
 * the intent is cancelled (idempotency key), unless the charge won the race — then the order is paid.
 * Histories without a 3-D Secure confirm never reach the patch, so they replay unchanged.
 */
const THREE_DS = 'payment-3ds';
const DEFAULT_AUTH_TIMEOUT_SECONDS = 30 * 60;
const AUTH_NOT_COMPLETED = 'authentication not completed';

/**
 * The customer's cancel (patch CANCEL): a `cancel` update. Before the charge nothing more is asked of
 * Stripe (or the intent is cancelled, trusting what the cancel finds); a customer waiting on 3-D Secure
 * stops waiting; a charge that won the race is refunded in full (refund request `cancel`, the same key a
 * cancel of an already-closed payment uses). The update answers once the outcome is published.
 */
const CANCEL = 'payment-cancel';

/**
 * A failure is in history before it is published (patch FAILURE_RECORDED). A local activity's result
 * reaches history only when its workflow task completes; a task lost on the way (worker killed, task
 * timed out under load) re-runs the local activities, which may then succeed. Publishing "failed" from
 * inside that task told the order it had failed, and the re-run then charged the card: paid, order failed
 * (the chaos suite's Stripe-slow scenario at 1000 orders). A 1 ms timer completes the task first, so the
 * failure that is published is the one history holds, and a replay can only publish it again.
 */
const FAILURE_RECORDED = 'payment-failure-recorded';

/**
 * The payment ledger gates every charge (patch LEDGER): the order is claimed in the payment service's
 * database before anything is asked of Stripe. A run that finds an intent recorded confirms that one; a
 * run that finds the payment settled publishes the recorded outcome again under its first event id and
 * charges nothing. This is what holds once Temporal has forgotten the order (retention) and Stripe its
 * idempotency key (24 h) — and with a Stripe that never honoured keys.
 */
const LEDGER = 'payment-ledger';

/**
 * One order's payment: workflow id `payment-<orderId>`, so a redelivered order.create cannot start a
 * second one. The PaymentIntent id is recorded in history before it is confirmed, so a retried
 * confirm always targets the same intent: at most one charge even where Stripe's idempotency keys are
 * not honoured.
 */
export async function paymentWorkflow(
  order: PaymentInput,
  options: PaymentOptions = {},
): Promise<PaymentResult> {
  upsertSearchAttributes([
    { key: ORDER_ID, value: order.orderId },
    { key: USER_ID, value: order.userId },
  ]);
  upsertMemo({ amount: order.amount, currency: order.currency });
  const calls = callsFor();
  const { getPaymentDetails, createPaymentIntent, confirmPaymentIntent, publishPaymentEvent } = calls;

  let cancelRequested = false;
  let settled: PaymentResult | undefined = undefined; // set once the outcome is published
  let refundOnCancel: Promise<CancelOutcome> | undefined;
  const cancellable = patched(CANCEL);
  if (cancellable)
    setHandler(cancelPaymentUpdate, async (): Promise<CancelOutcome> => {
      cancelRequested = true;
      await condition(() => settled !== undefined);
      const { status, paymentIntentId: intentId, failureReason } = settled!;
      if (status === 'cancelled') return { status };
      if (status === 'failed') return { status, ...(failureReason ? { failureReason } : {}) };
      refundOnCancel ??= new RefundBook(
        { orderId: order.orderId, paymentIntentId: intentId! },
        publishPaymentEvent,
      )
        .refund({ requestId: CANCEL_UPDATE_ID, reason: 'requested_by_customer' })
        .then((refund) => ({ status: 'refunded', refundedAmount: refund.refundedAmount }));
      return refundOnCancel;
    });

  // Stripe's webhooks, each event id once (Stripe redelivers; the same event must not count twice).
  const hints: StripeHint[] = [];
  const seen = new Set<string>();
  setHandler(stripeEventSignal, (hint) => {
    if (seen.has(hint.eventId)) return;
    seen.add(hint.eventId);
    hints.push(hint);
  });

  let details: PaymentMethodRef | undefined;
  let paymentIntentId: string | undefined;
  let replay: Extract<PaymentClaim, { state: 'settled' }> | undefined;
  let result: PaymentResult;
  const publish = (status: PaymentEvent['status'], extra: Partial<PaymentEvent> = {}) =>
    publishPaymentEvent(
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
   * Waits for the customer: a hint re-reads the intent. Every way out that is not a success — the window
   * closed, the customer failed the challenge, Stripe could not be read — cancels the intent and trusts
   * what the cancel finds: its client secret is public, so an intent left open could still be confirmed
   * (and charged) after the order was reported failed.
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
      if (state?.status === 'pending') continue;
      if (state?.status === 'failed') failureReason = state.failureReason;
      break;
    }
    return cancelIntent(intentId, failureReason);
  }

  /** Cancels the intent and trusts what the cancel finds: a charge that won the race is a payment. */
  async function cancelIntent(intentId: string, failureReason: string): Promise<PaymentResult> {
    const final = await calls.cancelPaymentIntent(intentId);
    if (final.status === 'succeeded') return { status: 'succeeded', paymentIntentId: intentId };
    if (cancelRequested) return { status: 'cancelled', paymentIntentId: intentId };
    return { status: 'failed', paymentIntentId: intentId, failureReason };
  }

  /** The payment, step by step; a cancel is looked at between steps (never inside the confirm). */
  async function pay(): Promise<PaymentResult> {
    if (patched(LEDGER)) {
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
    }
    if (cancelRequested) return { status: 'cancelled' };
    if (!paymentIntentId) {
      details = await getPaymentDetails(order.userId);
      if (cancelRequested) return { status: 'cancelled' };
      paymentIntentId = await createPaymentIntent({
        orderId: order.orderId,
        userId: order.userId,
        amount: order.amount,
        currency: order.currency,
        customerId: details.stripeCustomerId,
        paymentMethodId: details.paymentMethodId,
      });
    }
    if (cancelRequested) return cancelIntent(paymentIntentId, 'cancelled');
    const confirmed = await confirmPaymentIntent(paymentIntentId);
    if (confirmed.status === 'succeeded') return { status: 'succeeded', paymentIntentId };
    if (patched(THREE_DS)) return authenticated(paymentIntentId, confirmed.nextAction);
    // A run from before 3-D Secure, still open: it ends as it would have then.
    return {
      status: 'failed',
      paymentIntentId,
      failureReason: 'The bank asked the customer to authenticate',
    };
  }

  try {
    result = await pay();
  } catch (err) {
    // An activity that gave up: ActivityFailure around the cause; a local activity's arrives bare
    // (ApplicationFailure, TimeoutFailure). A bug in this code is not a payment failure: it rethrows.
    if (!(err instanceof TemporalFailure)) throw err;
    if (patched(FAILURE_RECORDED)) await sleep(1);
    result = { status: 'failed', paymentIntentId, failureReason: reasonOf(err) };
  }

  await publish(result.status, {
    ...(result.failureReason ? { failureReason: result.failureReason } : {}),
    // Announced before: the same event again (under its first id where the ledger holds it), which every
    // consumer has applied already.
    ...(replay?.announced
      ? { replayed: true as const, ...(replay.eventId ? { eventId: replay.eventId } : {}) }
      : {}),
  });
  settled = result;
  // A cancel that arrived before the end gets its answer (and its refund) before the workflow closes.
  if (cancellable) await condition(allHandlersFinished);
  return result;
}

// The payment worker runs the refunds of paid orders and reconciliation too (same task queue).
export { refundsWorkflow } from './refunds';
export { reconciliationWorkflow } from './reconciliation';
