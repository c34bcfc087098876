import { paymentEvent, TOPICS, type PaymentEvent } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import { type Stripe } from '@paystream/common/stripe';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Producer } from 'kafkajs';
import {
  DISPUTE_WORKFLOW,
  disputeStartOptions,
  type disputeWorkflow,
  paymentWorkflowId,
  stripeEventSignal,
  type ReconcileActivities,
  type ReconcileInput,
  type refundsWorkflow,
  type RulePass,
  type StripeHint,
  REFUNDS_WORKFLOW,
  refundsStartOptions,
} from '@paystream/workflows';
import type { DriftFinding, Ledger, PaymentRow } from './ledger/ledger';
import { ledgerMetrics } from './ledger/metrics';
import { OPEN_DISPUTE } from './activities';
import { orderStatuses } from './order-service';
import { paymentMetrics } from './metrics';

export interface ReconcileDeps {
  stripe: Stripe;
  ledger: Ledger;
  client: Client;
  producer: Producer;
  orderServiceUrl: string;
  serviceToken: string;
  logger?: Logger;
  taskQueue?: string;
  /** DISPUTE_EVIDENCE_WARNING, for a dispute workflow reconciliation starts. */
  evidenceWarningSeconds?: number;
}

/** Order statuses of money taken (a dispute does not undo the charge in the ledger: its movements do). */
const PAID_ORDER = new Set([
  'paid',
  'partially_refunded',
  'refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
]);
const OPEN_ORDER = new Set(['pending', 'requires_action', 'authorized']);
const WAITING_INTENT = new Set(['processing', 'requires_action', 'requires_confirmation']);
/** An intent holding nothing taken: an orphan of these is cancelled (an authorization's hold released). */
const UNPAID_INTENT = new Set([
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'requires_capture',
]);

const pass = (): RulePass => ({ checked: 0, healed: 0, drift: 0 });
const heartbeat = () => {
  try {
    Context.current().heartbeat();
  } catch {
    // Outside an activity (a test calling a rule directly): nothing to report to.
  }
};

/** A Stripe list a page of 100 at a time (one ledger query a page, not one an object), heartbeating between. */
async function inPages<T>(list: AsyncIterable<T>, each: (page: T[]) => Promise<void>): Promise<void> {
  let page: T[] = [];
  for await (const item of list) {
    page.push(item);
    if (page.length === 100) {
      heartbeat();
      await each(page);
      page = [];
    }
  }
  if (page.length) await each(page);
}

export function createReconcileActivities(deps: ReconcileDeps): ReconcileActivities {
  const { stripe, ledger, client } = deps;

  async function drift(found: DriftFinding, into: RulePass): Promise<void> {
    if (!(await ledger.recordDrift(found))) return;
    into.drift += 1;
    ledgerMetrics.driftFound.inc({ kind: found.kind });
    deps.logger?.error(
      { kind: found.kind, orderId: found.orderId, stripeObjectId: found.stripeObjectId },
      `reconciliation drift: ${found.detail}`,
    );
  }

  function healed(rule: string, into: RulePass, log: Record<string, unknown>): void {
    into.healed += 1;
    ledgerMetrics.healed.inc({ rule });
    deps.logger?.info({ rule, ...log }, 'reconciliation healed');
  }

  /** Whether the order's payment workflow is running (and so can be woken instead of replaced). */
  async function paymentRunning(orderId: string): Promise<boolean> {
    try {
      const run = await client.workflow.getHandle(paymentWorkflowId(orderId)).describe();
      return run.status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** A refund the ledger lacks: the order's refunds workflow re-reads Stripe, records and announces it. */
  async function refundsHint(row: PaymentRow, hint: StripeHint): Promise<void> {
    await client.workflow.signalWithStart<typeof refundsWorkflow, [StripeHint]>(REFUNDS_WORKFLOW, {
      ...refundsStartOptions(row.orderId, row.paymentIntentId!, deps.taskQueue),
      signal: stripeEventSignal,
      signalArgs: [hint],
    });
  }

  const now = () => Math.floor(Date.now() / 1000);
  /**
   * What happened in the last seconds may still be on its way (an intent between Stripe's answer and the
   * ledger's write, an outcome between the ledger and Kafka): each rule looks only at what is older.
   */
  const grace = (input: ReconcileInput) => Math.min(input.staleSeconds, 60);

  return {
    async reconcileOpenPayments(input) {
      const out = pass();
      for (const row of await ledger.openPayments(input.staleSeconds)) {
        out.checked += 1;
        heartbeat();
        const running = await paymentRunning(row.orderId);
        if (!running) {
          await drift(
            {
              kind: 'stuck_payment',
              orderId: row.orderId,
              stripeObjectId: row.paymentIntentId ?? `order:${row.orderId}`,
              ledgerAmount: row.amount,
              currency: row.currency,
              detail: `payment ${row.status} since ${row.updatedAt.toISOString()} and no payment workflow runs`,
            },
            out,
          );
          continue;
        }
        if (!row.paymentIntentId) continue; // still before Stripe: the workflow's own retries are at work
        const intent = await stripe.paymentIntents.retrieve(row.paymentIntentId);
        // The bank, the customer or the workflow's own confirm has yet to answer: its timer and retries cover it.
        if (WAITING_INTENT.has(intent.status)) continue;
        // A webhook that never came: the workflow re-reads the intent, as it does on Stripe's own hint.
        // The hint id names the state, so a second pass that finds the same state adds nothing.
        await client.workflow.getHandle(paymentWorkflowId(row.orderId)).signal(stripeEventSignal, {
          eventId: `reconcile:${intent.id}:${intent.status}`,
          type: 'reconciliation',
        });
        healed('workflow_woken', out, { orderId: row.orderId, intentStatus: intent.status });
      }
      return out;
    },

    async reconcileStripeObjects(input) {
      const out = pass();
      // Nothing from before the ledger began: those intents were made without a claim to match.
      const epoch = Math.floor((await ledger.epoch()).getTime() / 1000);
      const created = { gte: Math.max(now() - input.windowSeconds, epoch), lte: now() - grace(input) };
      await inPages(stripe.paymentIntents.list({ created, limit: 100 }), async (page) => {
        const byIntent = await ledger.paymentsByIntents(page.map((i) => i.id));
        const byOrder = await ledger.paymentsByOrders(
          page.map((i) => i.metadata?.orderId).filter((id): id is string => !!id),
        );
        for (const intent of page) {
          const orderId = intent.metadata?.orderId;
          if (!orderId) continue; // not made by Paystream (another integration on the same account)
          out.checked += 1;
          const received = intent.amount_received || intent.amount;
          const row = byIntent.get(intent.id);
          if (row?.status === 'authorized' && intent.status !== 'requires_capture') {
            // Captured or voided in Stripe's dashboard, its webhook lost: the holding workflow re-reads it.
            await client.workflow
              .getHandle(paymentWorkflowId(orderId))
              .signal(stripeEventSignal, {
                eventId: `reconcile:${intent.id}:${intent.status}`,
                type: 'reconciliation',
              })
              .then(
                () => healed('workflow_woken', out, { orderId, intentStatus: intent.status }),
                (err: unknown) => {
                  if (!(err instanceof WorkflowNotFoundError)) throw err;
                },
              );
            continue;
          }
          if (row) {
            if (intent.status !== 'succeeded') continue;
            // What the ledger expects taken: the order's amount, or what a manual capture took.
            const expected = row.captureMethod === 'manual' ? row.capturedAmount || received : row.amount;
            if (row.status === 'failed' || row.status === 'cancelled')
              await drift(
                {
                  kind: 'charged_but_failed',
                  orderId,
                  stripeObjectId: intent.id,
                  ledgerAmount: row.amount,
                  stripeAmount: received,
                  currency: intent.currency,
                  detail: `Stripe charged ${received} ${intent.currency}; the ledger says ${row.status}`,
                },
                out,
              );
            else if (received !== expected || intent.currency !== row.currency)
              await drift(
                {
                  kind: 'amount_mismatch',
                  orderId,
                  stripeObjectId: intent.id,
                  ledgerAmount: row.amount,
                  stripeAmount: received,
                  currency: intent.currency,
                  detail: `Stripe received ${received} ${intent.currency}; the ledger holds ${expected} ${row.currency}`,
                },
                out,
              );
            else if (
              row.status === 'succeeded' &&
              row.captureMethod === 'automatic' &&
              !(await ledger.hasMovement('charged', intent.id))
            ) {
              await ledger.recordCharge({
                orderId,
                paymentIntentId: intent.id,
                amount: received,
                currency: intent.currency,
                occurredAt: new Date(intent.created * 1000),
              });
              healed('charge_recorded', out, { orderId, intentId: intent.id });
            }
            continue;
          }
          const order = byOrder.get(orderId);
          if (intent.status === 'succeeded' && order)
            await drift(
              {
                kind: 'second_charge',
                orderId,
                stripeObjectId: intent.id,
                ledgerAmount: order.capturedAmount,
                stripeAmount: received,
                currency: intent.currency,
                detail: `a second intent charged ${received} ${intent.currency}; the order's intent is ${order.paymentIntentId ?? 'none'}`,
              },
              out,
            );
          else if (
            order &&
            order.paymentIntentId &&
            UNPAID_INTENT.has(intent.status) &&
            intent.created < Date.now() / 1000 - input.staleSeconds
          ) {
            // Made by an attempt that died before recording it: nothing will ever confirm it, and an open
            // intent with a client secret could still be. Ours by its metadata, so cancelled. A refusal (it
            // changed meanwhile) is left to the next pass, not the end of this one.
            await stripe.paymentIntents.cancel(intent.id, {}, { idempotencyKey: `cancel-${intent.id}` }).then(
              () => healed('orphan_intent_cancelled', out, { orderId, intentId: intent.id }),
              (err: unknown) =>
                deps.logger?.warn(
                  { orderId, intentId: intent.id, err: (err as Error).message },
                  'orphan intent not cancelled',
                ),
            );
          } else if (!order)
            await drift(
              {
                kind: 'unknown_intent',
                orderId,
                stripeObjectId: intent.id,
                stripeAmount: received,
                currency: intent.currency,
                detail: `an intent (${intent.status}) for an order the ledger has no payment of`,
              },
              out,
            );
        }
      });

      await inPages(stripe.refunds.list({ created, limit: 100 }), async (refunds) => {
        const ids = refunds.map((r) => r.id);
        // A release of an authorization (the uncaptured rest of a partial capture) is Stripe's refund too.
        const known = await ledger.knownMovements(['refunded', 'released'], ids);
        const intentOf = (r: Stripe.Refund) =>
          typeof r.payment_intent === 'string' ? r.payment_intent : r.payment_intent?.id;
        const rows = await ledger.paymentsByIntents(refunds.map(intentOf).filter((id): id is string => !!id));
        const hinted = new Set<string>();
        for (const refund of refunds) {
          const row = rows.get(intentOf(refund) ?? '');
          if (!row || (refund.status !== 'succeeded' && refund.status !== 'pending')) continue;
          // Only a payment that took money can give any back; on a voided one it is the hold released.
          if (row.status !== 'succeeded') continue;
          out.checked += 1;
          if (known.has(refund.id) || hinted.has(row.orderId)) continue;
          // A refund made outside Paystream whose webhook never came: the same path charge.refunded takes.
          await refundsHint(row, { eventId: `reconcile:${refund.id}`, type: 'charge.refunded' });
          hinted.add(row.orderId);
          healed('refund_announced', out, { orderId: row.orderId, refundId: refund.id });
        }
      });

      await inPages(stripe.disputes.list({ created, limit: 100 }), async (disputes) => {
        const known = await ledger.knownDisputes(disputes.map((d) => d.id));
        const intentOf = (d: Stripe.Dispute) =>
          typeof d.payment_intent === 'string' ? d.payment_intent : d.payment_intent?.id;
        const rows = await ledger.paymentsByIntents(
          disputes.map(intentOf).filter((id): id is string => !!id),
        );
        for (const dispute of disputes) {
          const row = rows.get(intentOf(dispute) ?? '');
          if (!row) continue;
          out.checked += 1;
          if (known.get(dispute.id)?.open === OPEN_DISPUTE.has(dispute.status)) continue;
          // A dispute opened (or decided) while its webhooks were lost: the path charge.dispute.* takes.
          await client.workflow.signalWithStart<typeof disputeWorkflow, [StripeHint]>(DISPUTE_WORKFLOW, {
            ...disputeStartOptions(
              {
                orderId: row.orderId,
                disputeId: dispute.id,
                evidenceWarningSeconds: deps.evidenceWarningSeconds,
              },
              deps.taskQueue,
            ),
            signal: stripeEventSignal,
            signalArgs: [{ eventId: `reconcile:${dispute.id}:${dispute.status}`, type: 'reconciliation' }],
          });
          healed('dispute_heard', out, {
            orderId: row.orderId,
            disputeId: dispute.id,
            status: dispute.status,
          });
        }
      });
      return out;
    },

    async reconcileOrderStatuses(input) {
      const out = pass();
      for (let after = ''; ;) {
        // An outcome younger than the threshold may still be on its way through Kafka (consumer lag).
        const rows = await ledger.settledSince(input.windowSeconds, input.staleSeconds, after, 200);
        if (!rows.length) break;
        after = rows[rows.length - 1]!.orderId;
        heartbeat();
        const orders = await orderStatuses(
          deps.orderServiceUrl,
          deps.serviceToken,
          rows.map((r) => r.orderId),
        );
        for (const row of rows) {
          const order = orders.get(row.orderId);
          if (!order) continue; // an order the order service never had (a test's direct workflow start)
          out.checked += 1;
          if (OPEN_ORDER.has(order.status) && row.outcomeEventId && row.outcomeAt) {
            // The order never applied the outcome: the same event again, which it applies once by id.
            const event: PaymentEvent = paymentEvent.parse({
              eventId: row.outcomeEventId,
              orderId: row.orderId,
              userId: row.userId,
              status: row.status,
              amount: row.amount,
              currency: row.currency,
              ...(row.paymentIntentId ? { paymentIntentId: row.paymentIntentId } : {}),
              ...(row.failureReason ? { failureReason: row.failureReason } : {}),
              occurredAt: row.outcomeAt.toISOString(),
            });
            await publishJson(deps.producer, TOPICS.paymentEvent, event.orderId, event);
            paymentMetrics.paymentOutcomes.inc({ status: event.status });
            healed('outcome_republished', out, { orderId: row.orderId, status: row.status });
            continue;
          }
          const ledgerPaid = row.status === 'succeeded';
          if (ledgerPaid !== PAID_ORDER.has(order.status) && !OPEN_ORDER.has(order.status))
            await drift(
              {
                kind: 'order_status_mismatch',
                orderId: row.orderId,
                stripeObjectId: row.paymentIntentId ?? `order:${row.orderId}`,
                ledgerAmount: row.capturedAmount,
                currency: row.currency,
                detail: `the order is ${order.status}; the ledger says ${row.status}`,
              },
              out,
            );
          else if (ledgerPaid && row.refundedAmount > order.refundedAmount && row.paymentIntentId) {
            // A refund announced but never applied: the refunds workflow announces every refund again.
            await refundsHint(row, {
              eventId: `reconcile:refunded:${row.orderId}:${row.refundedAmount}`,
              type: 'charge.refunded',
            });
            healed('refund_announced', out, { orderId: row.orderId });
          }
        }
      }
      return out;
    },

    async reportDrift(input) {
      const open = await ledger.openDriftByKind();
      ledgerMetrics.driftOpen.reset();
      for (const [kind, n] of Object.entries(open)) ledgerMetrics.driftOpen.set({ kind }, n);
      paymentMetrics.disputesOpen.set(await ledger.openDisputes());
      ledgerMetrics.passes.inc({ pass: input.pass, result: 'ok' });
      ledgerMetrics.lastPass.set(Date.now() / 1000);
      return Object.values(open).reduce((a, b) => a + b, 0);
    },
  };
}
