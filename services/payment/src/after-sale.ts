import { type OrderCreateEvent } from '@paystream/common/events';
import {
  ActivityFailure,
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import {
  cancelPaymentUpdate,
  CANCEL_UPDATE_ID,
  captureUpdate,
  captureUpdateId,
  voidUpdate,
  VOID_UPDATE_ID,
  PAYMENT_ERRORS,
  PAYMENT_WORKFLOW,
  paymentStartOptions,
  paymentWorkflowId,
  REFUNDS_WORKFLOW,
  refundsStartOptions,
  refundUpdate,
  refundUpdateId,
  type CancelOutcome,
  type CaptureOutcome,
  type CaptureRequest,
  type PaymentOptions,
  type paymentWorkflow,
  type PaymentResult,
  type RefundOutcome,
  type RefundRequest,
  type refundsWorkflow,
} from '@paystream/workflows';
import type { Ledger } from './ledger/ledger';
import { paymentMetrics } from './metrics';

/**
 * After the order: a customer's cancel, an operator's capture and refund, each a Temporal update, so the
 * answer (or the refusal) comes back at once and every change of money stays in a workflow's history.
 */
export interface AfterSaleDeps {
  client: Client;
  /** The payment service's settings, for a payment workflow the cancel itself has to start. */
  paymentOptions: PaymentOptions;
  /** What the ledger holds of a payment whose workflow has closed (a capture asked too late, or twice). */
  ledger: Pick<Ledger, 'payment'>;
  taskQueue?: string;
}

/**
 * Why a cancel or a refund cannot be done: `conflict` when the payment does not allow it (the order is not
 * paid, nothing is left to refund, Stripe refused), `invalid` when the request itself is malformed. The
 * routes and the ops CLI say it in their own terms (a 409 or 400 problem, an exit code).
 */
export class PaymentRefused extends Error {
  constructor(
    message: string,
    readonly kind: 'conflict' | 'invalid' = 'conflict',
  ) {
    super(message);
    this.name = 'PaymentRefused';
  }
}
const refused = (detail: string) => new PaymentRefused(detail);

/**
 * Cancels an order's payment. The `cancel` update goes to the order's payment workflow — started by
 * this very call when order.create has not reached it yet (it then charges nothing; the late
 * order.create finds it "already started"). A payment that already closed is refunded through the
 * refunds workflow under the same request id (`cancel`), so cancelling twice never refunds twice.
 * Answers `undefined` when the outcome is not known within `waitMs` (a Stripe call still retrying): the
 * order changes when it is.
 */
export async function cancelPayment(
  deps: AfterSaleDeps,
  order: OrderCreateEvent,
  waitMs: number,
  /** The order's PaymentIntent when the order service already holds it as paid: straight to the refund. */
  paidIntentId?: string,
): Promise<CancelOutcome | undefined> {
  // Paid: never a payment workflow again (after the namespace's retention one could start anew and
  // report "cancelled" for a charge it never saw). The refunds workflow reads Stripe.
  if (paidIntentId)
    return refundOnCancel(deps, order.orderId, await ownIntent(deps, order.orderId, paidIntentId), waitMs);
  // Joins the running payment, or starts it; a closed one is never run again: the cancel becomes a refund below.
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof paymentWorkflow>(PAYMENT_WORKFLOW, {
    ...paymentStartOptions(order, deps.paymentOptions, deps.taskQueue),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    const update = await deps.client.workflow.startUpdateWithStart(cancelPaymentUpdate, {
      updateId: CANCEL_UPDATE_ID,
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation,
    });
    return await within(update.result(), waitMs);
  } catch (err) {
    // Any refusal of the cancel itself (e.g. a run from before cancels existed) is a 409, never a 5xx.
    if (!closed(err)) throw refusalOf(err, false) ?? err;
  }
  const paid = await paymentOf(deps.client, order.orderId);
  if (paid.status === 'cancelled') return { status: 'cancelled' };
  if (paid.status !== 'succeeded')
    return { status: 'failed', ...(paid.failureReason ? { failureReason: paid.failureReason } : {}) };
  return refundOnCancel(deps, order.orderId, paid.paymentIntentId!, waitMs);
}

/** A paid order's cancel: a full refund under request id `cancel`, so cancelling twice never refunds twice. */
async function refundOnCancel(
  deps: AfterSaleDeps,
  orderId: string,
  paymentIntentId: string,
  waitMs: number,
): Promise<CancelOutcome | undefined> {
  const refund = await within(
    refundPayment(deps, orderId, paymentIntentId, {
      requestId: CANCEL_UPDATE_ID,
      reason: 'requested_by_customer',
    }),
    waitMs,
  );
  return refund && { status: 'refunded', refundedAmount: refund.refundedAmount };
}

/** An operator's refund of a paid order (all that is left when `amount` is absent). */
export async function refundOrder(
  deps: AfterSaleDeps,
  orderId: string,
  request: RefundRequest,
): Promise<RefundOutcome> {
  const paid = await paymentOf(deps.client, orderId);
  if (paid.status !== 'succeeded') throw refused(`Order ${orderId} was not paid (${paid.status})`);
  return refundPayment(deps, orderId, paid.paymentIntentId!, request);
}

/**
 * An operator's capture of an authorized order: all of it, or `amount`. The payment workflow holding the
 * authorization decides (and refuses what may not be); once it has closed, the ledger says why there is
 * nothing to capture — or, for the same request asked again, answers the capture it made.
 */
export async function captureOrder(
  deps: AfterSaleDeps,
  orderId: string,
  request: CaptureRequest,
): Promise<CaptureOutcome> {
  try {
    const outcome = await deps.client.workflow
      .getHandle<typeof paymentWorkflow>(paymentWorkflowId(orderId))
      .executeUpdate(captureUpdate, { args: [request], updateId: captureUpdateId(request.requestId) });
    paymentMetrics.captures.inc({ result: 'captured' });
    return outcome;
  } catch (err) {
    const refusal = refusalOf(err) ?? (await closedRefusal(deps, orderId, request, err));
    if (!refusal) throw err;
    if ('status' in refusal) return refusal;
    paymentMetrics.captures.inc({ result: 'refused' });
    throw refusal;
  }
}

/**
 * An operator's void of an authorized order: the hold is released, nothing taken; the order `cancelled`.
 * Refused for anything but an authorization no capture was asked for. Asked again once done, the same answer.
 */
export async function voidOrder(deps: AfterSaleDeps, orderId: string): Promise<CancelOutcome> {
  try {
    return await deps.client.workflow
      .getHandle<typeof paymentWorkflow>(paymentWorkflowId(orderId))
      .executeUpdate(voidUpdate, { updateId: VOID_UPDATE_ID });
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) throw refusal;
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    const row = await deps.ledger.payment(orderId);
    if (row?.captureMethod === 'manual' && row.status === 'cancelled') return { status: 'cancelled' };
    throw refused(
      !row
        ? `No payment was made for order ${orderId}`
        : row.captureMethod !== 'manual'
          ? 'This order was charged at once (automatic capture): there is nothing to void'
          : `The payment is ${row.status === 'succeeded' ? 'captured' : row.status}: there is nothing to void`,
    );
  }
}

/** Why a capture cannot be made once the payment workflow is gone; undefined when it is not gone. */
async function closedRefusal(
  deps: AfterSaleDeps,
  orderId: string,
  request: CaptureRequest,
  err: unknown,
): Promise<PaymentRefused | CaptureOutcome | undefined> {
  if (!(err instanceof WorkflowNotFoundError)) return undefined;
  const row = await deps.ledger.payment(orderId);
  if (!row) return refused(`No payment was made for order ${orderId}`);
  if (row.captureMethod !== 'manual')
    return refused('This order was charged at once (automatic capture): there is nothing to capture');
  if (row.status === 'succeeded' && row.captureRequestId === request.requestId)
    return {
      status: 'succeeded',
      capturedAmount: row.capturedAmount,
      releasedAmount: row.amount - row.capturedAmount,
    };
  if (row.status === 'succeeded')
    return refused(
      `This payment is captured already (${row.capturedAmount} ${row.currency}); it is captured at most once`,
    );
  if (row.status === 'cancelled')
    return refused(
      `The authorization was released (${row.failureReason ?? 'voided'}): there is nothing to capture`,
    );
  if (row.status === 'failed') return refused('The payment failed: there is nothing to capture');
  return refused('The payment is not authorized yet: there is nothing to capture');
}

/** The refund request as an update of the order's refunds workflow, started if none runs. */
async function refundPayment(
  deps: AfterSaleDeps,
  orderId: string,
  paymentIntentId: string,
  request: RefundRequest,
): Promise<RefundOutcome> {
  try {
    const outcome = await deps.client.workflow.executeUpdateWithStart(refundUpdate, {
      args: [request],
      updateId: refundUpdateId(request.requestId),
      startWorkflowOperation: new WithStartWorkflowOperation<typeof refundsWorkflow>(
        REFUNDS_WORKFLOW,
        refundsStartOptions(orderId, paymentIntentId, deps.taskQueue),
      ),
    });
    paymentMetrics.refunds.inc({ result: 'refunded' });
    return outcome;
  } catch (err) {
    const problem = refusalOf(err);
    if (problem) paymentMetrics.refunds.inc({ result: 'refused' });
    throw problem ?? err;
  }
}

/**
 * An update's failure as a refusal: the workflow's (an over-refund, Stripe refusing the refund — also when
 * it arrives inside an activity failure) is a conflict, its validator's (a malformed amount) an invalid
 * request. Anything else (Temporal or Stripe unreachable) is not the caller's doing: undefined.
 */
function refusalOf(err: unknown, validatorIs400 = true): PaymentRefused | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const failure = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  const ours: string[] = [
    PAYMENT_ERRORS.refundRefused,
    PAYMENT_ERRORS.invalidRequest,
    PAYMENT_ERRORS.captureRefused,
  ];
  if (
    !validatorIs400 ||
    err.cause instanceof ActivityFailure ||
    (failure.type && ours.includes(failure.type))
  )
    return refused(failure.message);
  return new PaymentRefused(failure.message, 'invalid');
}

/** How the order's payment workflow ended; a refusal when there is none or it still runs. */
async function paymentOf(client: Client, orderId: string): Promise<PaymentResult> {
  const handle = client.workflow.getHandle<typeof paymentWorkflow>(paymentWorkflowId(orderId));
  try {
    const run = await handle.describe();
    if (run.status.name === 'RUNNING') throw refused(`The payment of order ${orderId} is not finished yet`);
    if (run.status.name !== 'COMPLETED') throw refused(`The payment of order ${orderId} did not complete`);
    return await handle.result();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw refused(`No payment was made for order ${orderId}`);
    throw err;
  }
}

/**
 * The intent a caller says paid for an order, checked against the payment ledger's own record of it: whoever
 * holds the service token could otherwise have any PaymentIntent refunded under any order id.
 */
async function ownIntent(deps: AfterSaleDeps, orderId: string, claimed: string): Promise<string> {
  const recorded = (await deps.ledger.payment(orderId))?.paymentIntentId;
  if (recorded !== claimed)
    throw refused(
      recorded
        ? `PaymentIntent ${claimed} did not pay order ${orderId}`
        : `No payment of order ${orderId} is recorded: nothing to refund`,
    );
  return claimed;
}

/** The workflow is closed: an update-with-start may neither join it nor start it again. */
function closed(err: unknown): boolean {
  return err instanceof WorkflowExecutionAlreadyStartedError;
}

/** The promise's value, or `undefined` once `ms` passed (the work itself goes on). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  promise.catch(() => undefined); // settling after we stopped waiting: nobody is left to tell
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
