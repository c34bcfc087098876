/** The drain: every accepted order followed to its final status, then its email. */
import type { PlacedOrder } from './load';
import { json, pool } from './client';
import { DRAIN_TIMEOUT_MS, cfg, runId } from './settings';

export interface OrderStatus {
  orderId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export interface Drain {
  /** Each order's status once it was no longer pending. */
  final: Map<string, OrderStatus>;
  /** When the drain gave up on orders still pending (BENCH_DRAIN_TIMEOUT_MS after it began). */
  deadline: number;
}

/** 3a. Polls every order's status through the gateway until none is pending or the drain times out. */
export async function followToFinal(gatewayUrl: string, orders: PlacedOrder[]): Promise<Drain> {
  const final = new Map<string, OrderStatus>();
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (final.size < orders.length && Date.now() < deadline) {
    await pool(
      orders.filter((o) => !final.has(o.orderId)),
      16,
      async (o) => {
        const s = await json<OrderStatus>(
          await fetch(`${gatewayUrl}/orders/status/${o.orderId}`, {
            headers: { authorization: `Bearer ${o.token}` },
          }),
        );
        if (s.status !== 'pending') final.set(o.orderId, s);
      },
    );
    if (final.size < orders.length) await new Promise((r) => setTimeout(r, 500));
  }
  return { final, deadline };
}

/**
 * 3b. Counts the run's emails in Mailpit until there is one per accepted order. Emails trail the final
 * status; they get their own minute even when the status drain used it all up.
 */
export async function waitForEmails(
  accepted: number,
  drainDeadline: number,
): Promise<{ emails: number; emailedBy: number }> {
  let emails = 0;
  const emailDeadline = Math.max(drainDeadline, Date.now() + 60_000);
  while (Date.now() < emailDeadline) {
    const res = await fetch(
      `http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/search?query=${encodeURIComponent(`to:bench-${runId}-`)}&limit=1`,
    );
    emails = ((await res.json()) as { messages_count: number }).messages_count;
    if (emails >= accepted) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { emails, emailedBy: Date.now() };
}
