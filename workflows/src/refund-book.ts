import { ApplicationFailure, condition, proxyActivities } from '@temporalio/workflow';
import {
  PAYMENT_ERRORS,
  refundEventKind,
  type PaymentActivities,
  type RefundLedger,
} from './payment-activities';
import type { RefundOutcome, RefundRequest } from './api/refunds';

/**
 * Retry policies for refunds:
 * - Reading the ledger moves nothing: ~10 min of retries, then the request fails and can be asked again.
 * - Creating a refund moves money. Like the confirm, it retries until Stripe answers (backoff capped at
 *   1 min): giving up could report "not refunded" for a refund that went through. The request key makes
 *   every retry find the refund an earlier attempt made. A refusal from Stripe (4xx) is final.
 */
const refundCalls = {
  getRefundLedger: proxyActivities<PaymentActivities>({
    startToCloseTimeout: '20s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 25 },
  }).getRefundLedger,
  createRefund: proxyActivities<PaymentActivities>({
    startToCloseTimeout: '20s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      nonRetryableErrorTypes: [PAYMENT_ERRORS.invalidRequest],
    },
  }).createRefund,
};

/** The idempotency key of one refund request: the same request id is the same refund, in any workflow. */
export const refundRequestKey = (orderId: string, requestId: string): string =>
  `refund-${orderId}-${requestId}`;

export const totalRefunded = (ledger: RefundLedger): number =>
  ledger.refunds.reduce((sum, r) => sum + r.amount, 0);

/**
 * A payment's refunds, kept in step with Stripe inside a workflow. One request at a time, each checked
 * against a ledger read from Stripe just before (so a refund made in the dashboard counts): the sum of
 * refunds can never exceed the payment. Every refund Stripe holds is announced once on payment.event,
 * with the total refunded up to it; its event id comes from the refund id, so a refund announced again
 * (another workflow, a later run) is a redelivery to the consumers, not a second refund.
 */
export class RefundBook {
  private readonly announced = new Set<string>();
  private busy = false;

  constructor(
    private readonly payment: { orderId: string; paymentIntentId: string },
    private readonly publish: PaymentActivities['publishPaymentEvent'],
  ) {}

  /** Reads Stripe and announces refunds not announced yet (e.g. one made in Stripe's dashboard). */
  refresh(): Promise<RefundLedger> {
    return this.exclusive(() => this.read());
  }

  /** Refunds what the request asks (or the rest); asking again with its request id answers the same refund. */
  refund(request: RefundRequest): Promise<RefundOutcome> {
    return this.exclusive(async () => {
      const requestKey = refundRequestKey(this.payment.orderId, request.requestId);
      let ledger = await this.read();
      if (!ledger.refunds.some((r) => r.requestKey === requestKey)) {
        // The bank holds the money already: a refund now would pay the customer twice.
        if (ledger.disputeOpen)
          throw ApplicationFailure.nonRetryable(
            'A dispute is open on this payment: no refund until the bank decides it',
            PAYMENT_ERRORS.refundRefused,
          );
        const left = ledger.amount - totalRefunded(ledger);
        const amount = request.amount ?? left;
        if (left <= 0)
          throw ApplicationFailure.nonRetryable(
            'This payment is already refunded in full',
            PAYMENT_ERRORS.refundRefused,
          );
        if (amount > left)
          throw ApplicationFailure.nonRetryable(
            `A refund of ${amount} is more than the ${left} left to refund on this payment of ${ledger.amount} ${ledger.currency}`,
            PAYMENT_ERRORS.refundRefused,
          );
        await refundCalls.createRefund({
          ...this.payment,
          amount,
          requestKey,
          ...(request.reason ? { reason: request.reason } : {}),
        });
        ledger = await this.read();
      }
      const made = ledger.refunds.find((r) => r.requestKey === requestKey);
      // Stripe answered with this refund but does not list it as made: the request fails (it may be asked
      // again), rather than a workflow task that would fail the same way on every retry.
      if (!made)
        throw ApplicationFailure.nonRetryable(
          'Stripe did not keep the refund; ask again',
          PAYMENT_ERRORS.refundRefused,
        );
      const refundedAmount = totalRefunded(ledger);
      return {
        status: refundedAmount >= ledger.amount ? 'refunded' : 'partially_refunded',
        refundId: made.id,
        amount: made.amount,
        refundedAmount,
      };
    });
  }

  private async read(): Promise<RefundLedger> {
    const ledger = await refundCalls.getRefundLedger(this.payment.paymentIntentId);
    let upTo = 0;
    for (const refund of ledger.refunds) {
      upTo += refund.amount;
      if (this.announced.has(refund.id)) continue;
      await this.publish(
        {
          orderId: this.payment.orderId,
          userId: ledger.userId,
          status: upTo >= ledger.amount ? 'refunded' : 'partially_refunded',
          amount: ledger.amount,
          currency: ledger.currency,
          paymentIntentId: this.payment.paymentIntentId,
          refundAmount: refund.amount,
          refundedAmount: upTo,
          occurredAt: new Date().toISOString(),
        },
        refundEventKind(refund.id),
      );
      this.announced.add(refund.id);
    }
    return ledger;
  }

  /** One at a time: a refund is checked against the ledger the one before it left. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await condition(() => !this.busy);
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }
}
