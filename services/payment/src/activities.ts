import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { paymentDetailsSchema } from '@paystream/common/contracts';
import { paymentEvent, TOPICS } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import { stripeErrorText, type Stripe } from '@paystream/common/stripe';
import { traceHeaders } from '@paystream/common/tracing';
import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Producer } from 'kafkajs';
import type {
  ConfirmResult,
  IntentState,
  PaymentActivities,
  PaymentClaim,
  PaymentMethodRef,
  RefundRecord,
} from '@paystream/workflows';
import { disputeEventKind, PAYMENT_ERRORS, refundEventKind, type DisputeState } from '@paystream/workflows';
import { FINAL_STATUSES, type Ledger } from './ledger/ledger';
import { ledgerMetrics } from './ledger/metrics';
import { orderStatuses } from './order-service';
import { paymentMetrics } from './metrics';
import type { StripePort } from './stripe-port';

export interface PaymentActivityDeps {
  userServiceUrl: string;
  serviceToken: string;
  stripe: StripePort;
  producer: Producer;
  ledger: ActivityLedger;
  /** The order service, asked how an order older than the ledger ended. */
  orderServiceUrl: string;
  logger?: Logger;
}

/** What the activities write to and read from the ledger (the whole of it is services/payment/src/ledger). */
export type ActivityLedger = Pick<
  Ledger,
  | 'claim'
  | 'epoch'
  | 'payment'
  | 'recordIntent'
  | 'recordRequiresAction'
  | 'recordCharge'
  | 'recordOutcome'
  | 'recordRefunds'
  | 'recordAuthorization'
  | 'recordCapture'
  | 'recordRelease'
  | 'paymentByIntent'
  | 'recordDispute'
>;

/** payment.event's limit on `failureReason`; Stripe's messages have none, so every reason is cut to it. */
const FAILURE_REASON_MAX = 500;
export const cutReason = (text: string): string =>
  text.length <= FAILURE_REASON_MAX ? text : `${text.slice(0, FAILURE_REASON_MAX - 1)}…`;

interface StripeErrorLike {
  type?: string;
  statusCode?: number;
  code?: string;
  decline_code?: string;
  message?: string;
  raw?: { message?: string };
}

/** Client errors from Stripe are final; everything else (network, 5xx, 429) is left to Temporal's retry. */
export function stripeFailure(err: unknown): Error {
  const e = err as StripeErrorLike;
  if (e.statusCode === 402 || e.type === 'StripeCardError')
    return ApplicationFailure.nonRetryable(
      cutReason(`Card declined${e.decline_code ? ` (${e.decline_code})` : e.code ? ` (${e.code})` : ''}`),
      PAYMENT_ERRORS.cardDeclined,
    );
  if (
    e.statusCode &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    e.statusCode !== 429 &&
    e.statusCode !== 409
  )
    return ApplicationFailure.nonRetryable(
      cutReason(`Payment request rejected: ${stripeErrorText(e) ?? 'invalid request'}`),
      PAYMENT_ERRORS.invalidRequest,
    );
  return err instanceof Error ? err : new Error(String(err));
}

/** A UUID (version 5 layout, SHA-1 of the name) that is the same every time for the same name. */
function nameBasedUuid(name: string): string {
  const b = createHash('sha1').update(`paystream:${name}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What the customer must do, from Stripe's `next_action` (Stripe.js needs the client secret). */
function requiresAction(intent: Stripe.PaymentIntent): ConfirmResult {
  if (!intent.client_secret)
    throw new Error('Stripe returned an intent that needs action without a client secret');
  const redirectUrl = intent.next_action?.redirect_to_url?.url ?? undefined;
  return {
    status: 'requires_action',
    nextAction: {
      type: intent.next_action?.type ?? 'use_stripe_sdk',
      clientSecret: intent.client_secret,
      ...(redirectUrl ? { redirectUrl } : {}),
    },
  };
}

const isManual = (intent: Stripe.PaymentIntent) => intent.capture_method === 'manual';

/**
 * The refund Stripe makes of a partial capture's uncaptured rest (Stripe "refunds" what it does not
 * capture): the first refund of exactly that amount, asked for by no request of Paystream's. It is a release
 * of the hold, not money given back, so it counts neither as a refund nor against what may be refunded.
 */
export function captureRelease<R extends { amount: number; requestKey?: string }>(
  intent: Pick<Stripe.PaymentIntent, 'capture_method' | 'status' | 'amount' | 'amount_received'>,
  refundsOldestFirst: R[],
): R | undefined {
  if (intent.capture_method !== 'manual' || intent.status !== 'succeeded') return undefined;
  const rest = intent.amount - intent.amount_received;
  if (rest <= 0) return undefined;
  return refundsOldestFirst.find((r) => r.amount === rest && !r.requestKey);
}

/** A refund as the ledger reads it (the request key of a refund Paystream asked for). */
const refundRecord = (r: Stripe.Refund): RefundRecord => ({
  id: r.id,
  amount: r.amount,
  created: r.created,
  ...(r.metadata?.requestKey ? { requestKey: r.metadata.requestKey } : {}),
});
const oldestFirst = (a: RefundRecord, b: RefundRecord) => a.created - b.created || a.id.localeCompare(b.id);

const DISPUTE_METRIC: Partial<Record<string, string>> = {
  disputed: 'opened',
  dispute_evidence_due: 'evidence_due',
  dispute_won: 'won',
  dispute_lost: 'lost',
};

/** Statuses of a dispute still open (Stripe's; `warning_*` are inquiries before a chargeback). */
export const OPEN_DISPUTE = new Set([
  'warning_needs_response',
  'warning_under_review',
  'needs_response',
  'under_review',
]);

/** Stripe's intent states, as the workflow decides on them. */
function intentState(intent: Stripe.PaymentIntent): IntentState {
  switch (intent.status) {
    case 'succeeded':
      return isManual(intent)
        ? { status: 'succeeded', capturedAmount: intent.amount_received }
        : { status: 'succeeded' };
    case 'requires_capture':
      return { status: 'authorized' };
    case 'canceled':
      return { status: 'failed', failureReason: 'Payment was canceled' };
    case 'requires_payment_method':
      // After a failed authentication or a decline Stripe detaches the method and says why.
      return {
        status: 'failed',
        failureReason: cutReason(intent.last_payment_error?.message || 'The payment method was not accepted'),
      };
    default:
      return { status: 'pending' };
  }
}

/** When the intent's charge was made (its latest charge; the intent's own creation where there is none). */
export function chargedAt(intent: Stripe.PaymentIntent): number {
  const charge = intent.latest_charge;
  return typeof charge === 'object' && charge?.created ? charge.created : intent.created;
}

export function createPaymentActivities(deps: PaymentActivityDeps): PaymentActivities {
  const { stripe, ledger } = deps;

  /** How an order older than the ledger ended, by the order service; undefined while it is still open. */
  async function settledBefore(
    orderId: string,
  ): Promise<
    | { status: 'succeeded' | 'failed' | 'cancelled'; paymentIntentId?: string; failureReason?: string }
    | undefined
  > {
    const order = (await orderStatuses(deps.orderServiceUrl, deps.serviceToken, [orderId], 4000)).get(
      orderId,
    );
    const status = order?.status;
    const intent = order?.paymentIntentId ? { paymentIntentId: order.paymentIntentId } : {};
    if (status === 'paid' || status === 'partially_refunded' || status === 'refunded')
      return { status: 'succeeded', ...intent };
    if (status === 'failed') return { status: 'failed', failureReason: 'Payment failed', ...intent };
    if (status === 'cancelled') return { status: 'cancelled', ...intent };
    return undefined;
  }

  /**
   * What Stripe says of an intent, written down in the same step that learned it (with the capture request
   * that asked for a capture, where this step is that capture).
   */
  async function record(intent: Stripe.PaymentIntent, captureRequestId?: string): Promise<void> {
    const orderId = intent.metadata?.orderId;
    if (!orderId) return;
    const at = new Date(chargedAt(intent) * 1000);
    const money = { orderId, paymentIntentId: intent.id, currency: intent.currency, occurredAt: at };
    if (intent.status === 'succeeded' && isManual(intent)) {
      const released = intent.amount - intent.amount_received;
      const refunds: RefundRecord[] = [];
      if (released > 0) for await (const r of stripe.refundsOf(intent.id)) refunds.push(refundRecord(r));
      refunds.sort(oldestFirst);
      await ledger.recordCapture({
        ...money,
        captured: intent.amount_received,
        released,
        releasedBy: captureRelease(intent, refunds)?.id ?? intent.id,
        ...(captureRequestId ? { requestId: captureRequestId } : {}),
      });
    } else if (intent.status === 'succeeded')
      await ledger.recordCharge({ ...money, amount: intent.amount_received || intent.amount });
    else if (intent.status === 'requires_capture')
      await ledger.recordAuthorization({ ...money, amount: intent.amount_capturable || intent.amount });
    else if (intent.status === 'requires_action') await ledger.recordRequiresAction(orderId);
    // A voided (or lapsed) authorization: the hold is released, nothing was taken.
    else if (intent.status === 'canceled' && isManual(intent) && intent.latest_charge)
      await ledger.recordRelease({ ...money, amount: intent.amount });
  }

  return {
    async claimPayment(order): Promise<PaymentClaim> {
      const { row: claimed, fresh } = await ledger.claim(order);
      let row = claimed;
      if (row.amount !== order.amount || row.currency !== order.currency)
        throw ApplicationFailure.nonRetryable(
          `order.create for ${order.orderId} says ${order.amount} ${order.currency}; the ledger holds ${row.amount} ${row.currency}`,
          PAYMENT_ERRORS.invalidRequest,
        );
      // An order older than the ledger may have been settled without it: the order service knows.
      if (fresh && new Date(order.createdAt) < (await ledger.epoch())) {
        const before = await settledBefore(order.orderId);
        if (before) {
          await ledger.recordOutcome({ ...order, ...before, eventId: null });
          row = (await ledger.payment(order.orderId))!;
        }
      }
      let claim: PaymentClaim;
      if (FINAL_STATUSES.includes(row.status))
        claim = {
          state: 'settled',
          status: row.status as 'succeeded' | 'failed' | 'cancelled',
          // Published before (or settled before the ledger, by the order service's word): no second email.
          announced: row.outcomeAt !== null,
          ...(row.paymentIntentId ? { paymentIntentId: row.paymentIntentId } : {}),
          ...(row.failureReason ? { failureReason: row.failureReason } : {}),
          ...(row.outcomeEventId ? { eventId: row.outcomeEventId } : {}),
        };
      else if (row.paymentIntentId) claim = { state: 'intent', paymentIntentId: row.paymentIntentId };
      else claim = { state: 'new' };
      ledgerMetrics.gate.inc({ state: claim.state });
      return claim;
    },

    async getPaymentDetails(userId: string): Promise<PaymentMethodRef> {
      const res = await fetch(new URL(`/get/${encodeURIComponent(userId)}`, deps.userServiceUrl), {
        headers: { [SERVICE_TOKEN_HEADER]: deps.serviceToken, ...traceHeaders() },
        signal: AbortSignal.timeout(4000),
      });
      if (res.status === 404) {
        const body = (await res.json().catch(() => ({}))) as { detail?: string };
        throw ApplicationFailure.nonRetryable(
          body.detail ?? 'No payment method on file',
          PAYMENT_ERRORS.detailsMissing,
        );
      }
      if (!res.ok) throw new Error(`user service answered HTTP ${res.status}`);
      const { stripeCustomerId, paymentMethodId } = paymentDetailsSchema.parse(await res.json());
      return { stripeCustomerId, paymentMethodId }; // only the ids enter the history
    },

    async createPaymentIntent(input) {
      // A retry after a lost answer finds the intent the first attempt recorded: never a second one.
      const recorded = (await ledger.payment(input.orderId))?.paymentIntentId;
      if (recorded) return recorded;
      try {
        const intent = await stripe.createIntent(
          {
            amount: input.amount,
            currency: input.currency,
            customer: input.customerId,
            payment_method: input.paymentMethodId,
            ...(input.captureMethod === 'manual' ? { capture_method: 'manual' as const } : {}),
            metadata: { orderId: input.orderId, userId: input.userId },
          },
          `order-${input.orderId}`,
        );
        // Recorded before it can be confirmed. An intent made by an attempt that died before this line is
        // never confirmed (nothing knows it); reconciliation cancels it.
        const held = await ledger.recordIntent(input, intent.id);
        if (held.intentId === intent.id) return intent.id;
        // Another attempt recorded its intent first, or the payment settled meanwhile (an attempt that ran on
        // after its timeout): ours must never be confirmed.
        await stripe.cancelIntent(intent.id, `cancel-${intent.id}`).catch(() => undefined); // left open, reconciliation cancels it
        if (held.intentId && !FINAL_STATUSES.includes(held.status)) return held.intentId;
        throw ApplicationFailure.nonRetryable(
          `The payment of order ${input.orderId} is already ${held.status}`,
          PAYMENT_ERRORS.invalidRequest,
        );
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw stripeFailure(err);
      }
    },

    async confirmPaymentIntent(intentId, opts = {}) {
      try {
        // Read first: after a lost response the intent may already have succeeded. Not on the first attempt
        // for an intent this run has just created: nothing else has confirmed it (and a confirm Stripe
        // refuses is read below all the same).
        if (!(opts.created && Context.current().info.attempt === 1)) {
          const intent = await stripe.retrieveIntent(intentId);
          await record(intent);
          if (intent.status === 'succeeded') return { status: 'succeeded' };
          if (intent.status === 'requires_capture') return { status: 'authorized' };
          // Confirmed before (a retry after a lost answer): the customer is already being asked.
          if (intent.status === 'requires_action') return requiresAction(intent);
          if (intent.status === 'processing') throw new Error('payment is processing; checking again');
          if (intent.status === 'canceled')
            throw ApplicationFailure.nonRetryable('Payment was canceled', PAYMENT_ERRORS.invalidRequest);
        }
        let confirmed: Stripe.PaymentIntent;
        try {
          confirmed = await stripe.confirmIntent(intentId, `confirm-${intentId}`);
        } catch (err) {
          // The confirm may have gone through although its answer was lost — the SDK even resends once
          // on a dropped connection, and a second confirm of a paid intent is refused. The intent's own
          // state is the truth: found the chaos suite's Stripe fault proxy.
          const now = await stripe.retrieveIntent(intentId);
          await record(now);
          if (now.status === 'succeeded') return { status: 'succeeded' };
          if (now.status === 'requires_capture') return { status: 'authorized' };
          throw err;
        }
        await record(confirmed);
        if (confirmed.status === 'succeeded') return { status: 'succeeded' };
        if (confirmed.status === 'requires_capture') return { status: 'authorized' };
        if (confirmed.status === 'requires_action') return requiresAction(confirmed);
        throw new Error(`payment intent is ${confirmed.status}`);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw stripeFailure(err);
      }
    },

    async getPaymentIntentState(intentId) {
      try {
        const intent = await stripe.retrieveIntent(intentId);
        await record(intent);
        return intentState(intent);
      } catch (err) {
        throw stripeFailure(err);
      }
    },

    async cancelPaymentIntent(intentId) {
      try {
        const intent = await stripe.retrieveIntent(intentId);
        await record(intent);
        if (intent.status === 'succeeded' || intent.status === 'canceled') return intentState(intent);
        // Stripe refuses to cancel a payment the bank is still deciding on: wait for its outcome.
        if (intent.status === 'processing') throw new Error('payment is processing; checking again');
        try {
          const cancelled = await stripe.cancelIntent(intentId, `cancel-${intentId}`);
          await record(cancelled);
          return intentState(cancelled);
        } catch (err) {
          // Refused because the customer finished meanwhile (or an earlier cancel went through): the
          // intent's own state is the answer.
          const now = await stripe.retrieveIntent(intentId);
          await record(now);
          if (now.status === 'succeeded' || now.status === 'canceled') return intentState(now);
          if (now.status === 'processing')
            throw new Error('payment is processing; checking again', { cause: err });
          throw err;
        }
      } catch (err) {
        throw stripeFailure(err);
      }
    },

    async capturePaymentIntent({ paymentIntentId, amount, requestId }) {
      const taken = (intent: Stripe.PaymentIntent) => ({
        capturedAmount: intent.amount_received,
        releasedAmount: intent.amount - intent.amount_received,
      });
      try {
        // Read first: after a lost answer the capture may have gone through; a second one is never asked.
        const intent = await stripe.retrieveIntent(paymentIntentId);
        await record(intent, requestId);
        if (intent.status === 'succeeded') return taken(intent);
        if (intent.status !== 'requires_capture')
          throw ApplicationFailure.nonRetryable(
            `The payment is ${intent.status}: there is no authorization to capture`,
            PAYMENT_ERRORS.captureRefused,
          );
        let captured: Stripe.PaymentIntent;
        try {
          captured = await stripe.captureIntent(paymentIntentId, amount, `capture-${paymentIntentId}`);
        } catch (err) {
          const now = await stripe.retrieveIntent(paymentIntentId);
          await record(now, requestId);
          if (now.status === 'succeeded') return taken(now);
          throw err;
        }
        // Stripe may answer before the capture settles (`processing`): the retry reads it again.
        await record(captured, requestId);
        if (captured.status !== 'succeeded')
          throw new Error(`captured intent is ${captured.status}; checking again`);
        return taken(captured);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw stripeFailure(err);
      }
    },

    async getRefundLedger(intentId) {
      try {
        const intent = await stripe.retrieveIntent(intentId);
        const refunds: RefundRecord[] = [];
        const succeeded = new Set<string>();
        for await (const r of stripe.refundsOf(intentId))
          if (r.status === 'succeeded' || r.status === 'pending') {
            if (r.status === 'succeeded') succeeded.add(r.id);
            refunds.push(refundRecord(r));
          }
        refunds.sort(oldestFirst);
        const release = captureRelease(intent, refunds);
        const given = refunds.filter((r) => r !== release);
        if (intent.metadata.orderId)
          await ledger.recordRefunds(
            intent.metadata.orderId,
            given.filter((r) => succeeded.has(r.id)).map((r) => ({ ...r, currency: intent.currency })),
          );
        let disputeOpen = false;
        for await (const d of stripe.disputesOf(intentId)) disputeOpen ||= OPEN_DISPUTE.has(d.status);
        return {
          amount: intent.amount_received || intent.amount,
          currency: intent.currency,
          userId: intent.metadata.userId ?? '',
          refunds: given,
          ...(disputeOpen ? { disputeOpen } : {}),
        };
      } catch (err) {
        throw stripeFailure(err);
      }
    },

    async createRefund(input) {
      try {
        // A retry after a lost answer: the refund the first attempt made is found by its request key. One
        // that failed at Stripe does not count: the request may try again, under a new idempotency key.
        let failedBefore = 0;
        for await (const r of stripe.refundsOf(input.paymentIntentId))
          if (r.metadata?.requestKey === input.requestKey) {
            if (r.status === 'succeeded' || r.status === 'pending') return r.id;
            failedBefore += 1;
          }
        const refund = await stripe.createRefund(
          {
            payment_intent: input.paymentIntentId,
            amount: input.amount,
            // Free text goes to metadata: Stripe's own `reason` takes three fixed values only.
            metadata: {
              orderId: input.orderId,
              requestKey: input.requestKey,
              ...(input.reason ? { reason: input.reason.slice(0, 500) } : {}),
            },
          },
          failedBefore ? `${input.requestKey}-again-${failedBefore}` : input.requestKey,
        );
        if (refund.status === 'failed' || refund.status === 'canceled')
          throw ApplicationFailure.nonRetryable(
            `Stripe did not make the refund (${refund.failure_reason ?? refund.status})`,
            PAYMENT_ERRORS.refundRefused,
          );
        return refund.id;
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw stripeFailure(err);
      }
    },

    async getDispute(disputeId): Promise<DisputeState> {
      try {
        const d = await stripe.retrieveDispute(disputeId);
        const intentId = typeof d.payment_intent === 'string' ? d.payment_intent : d.payment_intent?.id;
        const row = intentId ? await ledger.paymentByIntent(intentId) : undefined;
        if (!intentId || !row)
          throw ApplicationFailure.nonRetryable(
            `Dispute ${disputeId} is not of a payment the ledger holds (${intentId ?? 'no PaymentIntent'})`,
            PAYMENT_ERRORS.invalidRequest,
          );
        const open = OPEN_DISPUTE.has(d.status);
        const dueBy = d.evidence_details?.due_by ? new Date(d.evidence_details.due_by * 1000) : null;
        await ledger.recordDispute({
          disputeId: d.id,
          orderId: row.orderId,
          paymentIntentId: intentId,
          status: d.status,
          reason: d.reason,
          amount: d.amount,
          currency: d.currency,
          evidenceDueBy: dueBy,
          openedAt: new Date(d.created * 1000),
          open,
        });
        return {
          id: d.id,
          status: d.status,
          reason: d.reason,
          amount: d.amount,
          ...(open && dueBy ? { evidenceDueBy: dueBy.toISOString() } : {}),
          orderId: row.orderId,
          userId: row.userId,
          paymentIntentId: intentId,
          orderAmount: row.amount,
          currency: row.currency,
          open,
        };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw stripeFailure(err);
      }
    },

    async publishPaymentEvent(draft, kind = draft.status) {
      const run = Context.current().info.workflowExecution;
      // A refund's or a dispute's event is named by the Stripe object alone: whichever workflow run announces
      // it, it is one event.
      const name =
        kind.startsWith(refundEventKind('')) || kind.startsWith(disputeEventKind('', ''))
          ? kind
          : run && `${run.workflowId}/${run.runId}/${kind}`;
      const eventId = name ? nameBasedUuid(name) : randomUUID();
      const parsed = paymentEvent.safeParse({ eventId, ...draft });
      if (!parsed.success) {
        // A bug in what the workflow built: retrying cannot fix it, and a retry forever would leave the
        // order pending with its cancel hanging. The run fails where an operator sees it.
        ledgerMetrics.invalidEvents.inc();
        deps.logger?.error(
          {
            orderId: draft.orderId,
            status: draft.status,
            issues: parsed.error.issues.map((i) => i.path.join('.')),
          },
          'payment event refused by its own schema',
        );
        throw ApplicationFailure.nonRetryable(
          `payment.event refused by its schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          PAYMENT_ERRORS.invalidEvent,
        );
      }
      const valid = parsed.data;
      if (
        !valid.replayed &&
        (valid.status === 'succeeded' || valid.status === 'failed' || valid.status === 'cancelled')
      ) {
        const held = await ledger.recordOutcome({ ...valid, status: valid.status });
        if (held !== valid.status)
          deps.logger?.error(
            { orderId: valid.orderId, published: valid.status, ledger: held },
            'payment outcome contradicts the ledger',
          );
      }
      await publishJson(deps.producer, TOPICS.paymentEvent, valid.orderId, valid);
      paymentMetrics.paymentOutcomes.inc({ status: valid.status });
      if (valid.status === 'authorization_expiring') paymentMetrics.authorizationsExpiring.inc();
      const disputeMoment = DISPUTE_METRIC[valid.status];
      if (disputeMoment && !valid.replayed) paymentMetrics.disputes.inc({ event: disputeMoment });
    },
  };
}
