import { allHandlersFinished, condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { PaymentActivities } from './payment-activities';
import { stripeEventSignal } from './api/payment';
import { refundUpdate, type RefundRequest, type RefundsInput } from './api/refunds';
import { RefundBook } from './refund-book';

const DEFAULT_IDLE_SECONDS = 24 * 60 * 60;

const { publishPaymentEvent } = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * The refunds of one paid order (workflow id `refunds-<orderId>`), started by the first refund request
 * or by Stripe's `charge.refunded` (a refund made in Stripe's dashboard), whichever comes first:
 * - `refund` update: an operator's refund or a customer's cancel of a paid order. Checked against the
 *   ledger read from Stripe; an over-refund fails the update (the caller gets the reason at once) and
 *   changes nothing.
 * - `stripeEvent` signal: re-reads Stripe and announces refunds it did not make.
 * Nothing here is held as truth between requests: Stripe's list of refunds is the ledger, so a new run
 * (after the idle window) knows everything the previous one did. Its starter sets the `OrderId` search
 * attribute, so the Web UI lists it next to the order's payment.
 */
export async function refundsWorkflow(input: RefundsInput): Promise<void> {
  const book = new RefundBook(input, publishPaymentEvent);
  let requests = 0;
  let hinted = false;
  const seen = new Set<string>();
  setHandler(
    refundUpdate,
    (request: RefundRequest) => {
      requests += 1;
      return book.refund(request);
    },
    {
      // Runs before the update is accepted: a malformed request leaves no trace in the history.
      validator: (request: RefundRequest) => {
        if (!request.requestId) throw new Error('requestId is required');
        if (request.amount !== undefined && !(Number.isInteger(request.amount) && request.amount > 0))
          throw new Error('amount must be a positive whole number of minor units');
      },
    },
  );
  setHandler(stripeEventSignal, (hint) => {
    if (seen.has(hint.eventId)) return;
    seen.add(hint.eventId);
    hinted = true;
  });

  // What Stripe holds already: announces a dashboard refund that started this run.
  await book.refresh();
  const idleMs = (input.idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
  for (;;) {
    const before = requests;
    const woke = await condition(() => hinted || requests !== before, idleMs);
    if (!woke) break;
    if (hinted) {
      hinted = false;
      await book.refresh();
    }
  }
  await condition(allHandlersFinished);
}
