import { condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { PaymentEvent } from '@paystream/common/events';
import type { PaymentActivities } from './payment-activities';
import { stripeEventSignal } from './api/payment';
import { disputeEventKind, type DisputeInput, type DisputeState } from './api/disputes';

const DEFAULT_WARNING_SECONDS = 2 * 24 * 3600;
/** While open, the dispute is read again at least this often: a webhook lost is not a dispute lost. */
const REREAD_MS = 24 * 3600 * 1000;

/**
 * Reading a dispute and publishing moves no money: local activities with Temporal's retries, ~10 min for
 * a read (then the run fails and the next hint or reconciliation starts it again), unbounded for Kafka.
 */
const { getDispute } = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 25 },
});
const { publishPaymentEvent } = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * One dispute of an order's charge (workflow id `dispute-<disputeId>`). Stripe is the truth: every hint
 * re-reads the dispute. The order is told `disputed` (its refunds are refused from then on), the merchant is
 * emailed with the evidence deadline and reminded before it (a durable timer), and the bank's decision ends
 * it: `dispute_won` (the funds come back; refunds are possible again) or `dispute_lost`. Each event is named by
 * the dispute, so a later run (after a hint on a closed one, or reconciliation) announces nothing twice.
 */
export async function disputeWorkflow(input: DisputeInput): Promise<{ status: string }> {
  const seen = new Set<string>();
  let hinted = false;
  setHandler(stripeEventSignal, (hint) => {
    if (seen.has(hint.eventId)) return;
    seen.add(hint.eventId);
    hinted = true;
  });
  const warning = (input.evidenceWarningSeconds ?? DEFAULT_WARNING_SECONDS) * 1000;
  const publish = (status: PaymentEvent['status'], d: DisputeState, what: string) =>
    publishPaymentEvent(
      {
        orderId: d.orderId,
        userId: d.userId,
        status,
        amount: d.orderAmount,
        currency: d.currency,
        paymentIntentId: d.paymentIntentId,
        dispute: {
          id: d.id,
          status: d.status,
          reason: d.reason,
          amount: d.amount,
          ...(d.evidenceDueBy ? { evidenceDueBy: d.evidenceDueBy } : {}),
        },
        occurredAt: new Date().toISOString(),
      },
      disputeEventKind(d.id, what),
    );

  let opened = false;
  let remindedFor: string | undefined;
  for (;;) {
    hinted = false;
    const dispute = await getDispute(input.disputeId);
    if (!opened) {
      await publish('disputed', dispute, 'opened');
      opened = true;
      // Due sooner than the reminder would come: the email that it opened names the deadline already.
      if (dispute.evidenceDueBy && Date.parse(dispute.evidenceDueBy) - warning <= Date.now())
        remindedFor = dispute.evidenceDueBy;
    }
    if (!dispute.open) {
      await publish(dispute.status === 'won' ? 'dispute_won' : 'dispute_lost', dispute, 'closed');
      return { status: dispute.status };
    }
    const due = dispute.evidenceDueBy;
    const remindAt = due && remindedFor !== due ? Date.parse(due) - warning : undefined;
    const wait = Math.max(0, Math.min(remindAt ?? Infinity, Date.now() + REREAD_MS) - Date.now());
    const woke = wait > 0 && (await condition(() => hinted, wait));
    if (!woke && remindAt !== undefined && Date.now() >= remindAt) {
      await publish('dispute_evidence_due', dispute, `due:${due}`);
      remindedFor = due;
    }
  }
}
