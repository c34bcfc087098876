import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';

/** What the order service holds of an order (its POST /internal/statuses). */
export interface OrderStatus {
  orderId: string;
  status: string;
  refundedAmount: number;
  paymentIntentId: string | null;
}

/** The order service's statuses of these orders (at most 200 a call); unknown ids are left out. */
export async function orderStatuses(
  orderServiceUrl: string,
  serviceToken: string,
  orderIds: string[],
  timeoutMs = 10_000,
): Promise<Map<string, OrderStatus>> {
  const res = await fetch(new URL('/internal/statuses', orderServiceUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SERVICE_TOKEN_HEADER]: serviceToken },
    body: JSON.stringify({ orderIds }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`order service answered HTTP ${res.status} to /internal/statuses`);
  const { orders } = (await res.json()) as { orders: OrderStatus[] };
  return new Map(orders.map((o) => [o.orderId, o]));
}
