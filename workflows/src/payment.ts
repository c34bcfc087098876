import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { PaymentActivities, PaymentDetails, PaymentEventOut, PaymentInput } from './payment-activities';
import { PAYMENT_ERRORS } from './payment-activities';
import { ORDER_ID, USER_ID } from './search-attributes';

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
const userService: ActivityOptions = {
  startToCloseTimeout: '5s',
  retry: {
    initialInterval: '500ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
const stripeCreate: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 25,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
const stripeConfirm: ActivityOptions = {
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};
const kafka: ActivityOptions = {
  startToCloseTimeout: '15s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
};

const { getPaymentDetails } = proxyActivities<PaymentActivities>(userService);
const { createPaymentIntent } = proxyActivities<PaymentActivities>(stripeCreate);
const { confirmPaymentIntent } = proxyActivities<PaymentActivities>(stripeConfirm);
const { publishPaymentEvent } = proxyActivities<PaymentActivities>(kafka);

export interface PaymentResult {
  status: 'succeeded' | 'failed';
  paymentIntentId?: string;
  failureReason?: string;
}

/** Why an activity gave up, in words a customer may read. */
function reasonOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.message;
  return 'Payment could not be completed';
}

/**
 * One order's payment: workflow id `payment-<orderId>`, so a redelivered order.create cannot start a
 * second one. The PaymentIntent id is recorded in history before it is confirmed, so a retried
 * confirm always targets the same intent: at most one charge even where Stripe's idempotency keys are
 * not honoured.
 */
export async function paymentWorkflow(order: PaymentInput): Promise<PaymentResult> {
  upsertSearchAttributes([
    { key: ORDER_ID, value: order.orderId },
    { key: USER_ID, value: order.userId },
  ]);
  upsertMemo({ amount: order.amount, currency: order.currency });

  let details: PaymentDetails | undefined;
  let paymentIntentId: string | undefined;
  let result: PaymentResult;
  try {
    details = await getPaymentDetails(order.userId);
    paymentIntentId = await createPaymentIntent({
      orderId: order.orderId,
      userId: order.userId,
      amount: order.amount,
      currency: order.currency,
      customerId: details.stripeCustomerId,
      paymentMethodId: details.paymentMethodId,
    });
    await confirmPaymentIntent(paymentIntentId);
    result = { status: 'succeeded', paymentIntentId };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    result = { status: 'failed', paymentIntentId, failureReason: reasonOf(err) };
  }

  const event: PaymentEventOut = {
    eventId: uuid4(),
    orderId: order.orderId,
    userId: order.userId,
    status: result.status,
    amount: order.amount,
    currency: order.currency,
    ...(result.paymentIntentId ? { paymentIntentId: result.paymentIntentId } : {}),
    ...(result.failureReason ? { failureReason: result.failureReason } : {}),
    ...(details ? { email: details.email } : {}),
    // Workflow time: Date is replay-safe inside the workflow sandbox.
    occurredAt: new Date().toISOString(),
  };
  await publishPaymentEvent(event);
  return result;
}
