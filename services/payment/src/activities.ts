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
import { PAYMENT_ERRORS, refundEventKind } from '@paystream/workflows';
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

/** Stripe's intent states, as the workflow decides on them. */
function intentState(intent: Stripe.PaymentIntent): IntentState {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded' };
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

  /** What Stripe says of an intent, written down in the same step that learned it. */
  async function record(intent: Stripe.PaymentIntent): Promise<void> {
    const orderId = intent.metadata?.orderId;
    if (!orderId) return;
    if (intent.status === 'succeeded')
      await ledger.recordCharge({
        orderId,
        paymentIntentId: intent.id,
        amount: intent.amount_received || intent.amount,
        currency: intent.currency,
        occurredAt: new Date(chargedAt(intent) * 1000),
      });
    else if (intent.status === 'requires_action') await ledger.recordRequiresAction(orderId);
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

    async confirmPaymentIntent(intentId) {
      try {
        // Read first: after a lost response the intent may already have succeeded.
        const intent = await stripe.retrieveIntent(intentId);
        await record(intent);
        if (intent.status === 'succeeded') return { status: 'succeeded' };
        // Confirmed before (a retry after a lost answer): the customer is already being asked.
        if (intent.status === 'requires_action') return requiresAction(intent);
        if (intent.status === 'processing') throw new Error('payment is processing; checking again');
        if (intent.status === 'canceled')
          throw ApplicationFailure.nonRetryable('Payment was canceled', PAYMENT_ERRORS.invalidRequest);
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
          throw err;
        }
        await record(confirmed);
        if (confirmed.status === 'succeeded') return { status: 'succeeded' };
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
          return intentState(await stripe.cancelIntent(intentId, `cancel-${intentId}`));
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

    async getRefundLedger(intentId) {
      try {
        const intent = await stripe.retrieveIntent(intentId);
        const refunds: RefundRecord[] = [];
        const succeeded = new Set<string>();
        for await (const r of stripe.refundsOf(intentId))
          if (r.status === 'succeeded' || r.status === 'pending') {
            if (r.status === 'succeeded') succeeded.add(r.id);
            refunds.push({
              id: r.id,
              amount: r.amount,
              created: r.created,
              ...(r.metadata?.requestKey ? { requestKey: r.metadata.requestKey } : {}),
            });
          }
        refunds.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
        if (intent.metadata.orderId)
          await ledger.recordRefunds(
            intent.metadata.orderId,
            refunds.filter((r) => succeeded.has(r.id)).map((r) => ({ ...r, currency: intent.currency })),
          );
        return {
          amount: intent.amount_received || intent.amount,
          currency: intent.currency,
          userId: intent.metadata.userId ?? '',
          refunds,
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

    async publishPaymentEvent(draft, kind = draft.status) {
      const run = Context.current().info.workflowExecution;
      // A refund's event is named by the refund alone: whichever workflow announces it, it is one event.
      const name = kind.startsWith(refundEventKind(''))
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
    },
  };
}
