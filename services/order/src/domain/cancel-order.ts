import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { HttpProblem, problems } from '@paystream/common/problem';
import { traceHeaders } from '@paystream/common/tracing';
import type { Order } from '../db/entities';

export interface CancelAnswer {
  /** 200 with the outcome, or 202 while the payment side is still finishing (a Stripe call retrying). */
  httpStatus: 200 | 202;
  body: { orderId: string; status: string; refundedAmount?: number };
}

const unavailable = () =>
  new HttpProblem(503, 'service-unavailable', 'The payment service is unavailable; try again', {
    retryAfter: 1,
  });

/**
 * The owner cancels their order. What it comes to is the payment service's to decide (it owns the
 * money): nothing charged yet → `cancelled`; authorized (manual capture) → voided → `cancelled`; paid →
 * refunded in full → `refunded`. A failed order has nothing to cancel, and a disputed one is the bank's to
 * settle (409). An order already cancelled or refunded answers the same outcome again without asking
 * anyone, so a repeated cancel can never refund twice.
 */
export async function cancelOrder(
  order: Order,
  payment: { url: string; serviceToken: string; timeoutMs: number },
): Promise<CancelAnswer> {
  if (order.status === 'failed') throw problems.conflict('This order failed; there is nothing to cancel');
  if (order.status === 'disputed')
    throw problems.conflict(
      'A dispute is open on this payment; it cannot be refunded until the bank decides',
    );
  if (order.status === 'dispute_lost')
    throw problems.conflict('The bank took this payment back in a dispute; there is nothing left to refund');
  if (order.status === 'cancelled' || order.status === 'refunded')
    return {
      httpStatus: 200,
      body: { orderId: order.id, status: order.status, refundedAmount: order.refundedAmount },
    };
  let res: Response;
  try {
    res = await fetch(new URL(`/internal/orders/${order.id}/cancel`, payment.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SERVICE_TOKEN_HEADER]: payment.serviceToken,
        ...traceHeaders(),
      },
      body: JSON.stringify({
        userId: order.userId,
        amount: order.amount,
        currency: order.currency,
        createdAt: order.createdAt.toISOString(),
        status: order.status,
        ...(order.paymentIntentId ? { paymentIntentId: order.paymentIntentId } : {}),
      }),
      signal: AbortSignal.timeout(payment.timeoutMs),
    });
  } catch {
    throw unavailable();
  }
  const body = (await res.json().catch(() => ({}))) as CancelAnswer['body'] & { detail?: string };
  if (res.status === 409) throw problems.conflict(body.detail ?? 'This order cannot be cancelled');
  if (res.status !== 200 && res.status !== 202) throw unavailable();
  if (body.status === 'failed') throw problems.conflict('The payment failed; there is nothing to cancel');
  return {
    httpStatus: res.status,
    body: {
      orderId: order.id,
      status: body.status,
      ...(body.refundedAmount !== undefined ? { refundedAmount: body.refundedAmount } : {}),
    },
  };
}
