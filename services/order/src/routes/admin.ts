import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { requireOperator } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import { traceHeaders } from '@paystream/common/tracing';
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Order } from '../db/entities';
import { listOrders, type OrderFilter } from '../domain/order-history';
import { orderView } from '../domain/orders';
import { adminOrdersQuery, statsQuery } from '../api';

const orderIdParams = z.object({ orderId: z.uuid() });
const adminView = (order: Order) => ({ ...orderView(order), userId: order.userId });

/**
 * The operator API's order routes (through the gateway, with an API key holding `orders:read`): search, an
 * order's timeline — its steps here, its money from the payment service's ledger, its emails and webhook
 * deliveries from the notification service, a link to its workflows in the Temporal Web UI — and the
 * per-minute outcomes the console charts. Reads only: nothing here is an audited action.
 */
export function adminRoutes(db: DataSource, cfg: Config): Router {
  const router = Router();
  const operator = requireOperator(cfg.SERVICE_TOKEN, 'orders:read');

  /** A part of the story another service holds; null (and the timeline still answers) when it is away. */
  async function askService(base: string, path: string): Promise<Record<string, unknown> | null> {
    try {
      const res = await fetch(new URL(path, base), {
        headers: { [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN, ...traceHeaders() },
        signal: AbortSignal.timeout(3000),
      });
      return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** The customer a search names: a user id as it is, an email address through the user service. */
  async function customerId(customer: string): Promise<string | null> {
    if (z.uuid().safeParse(customer).success) return customer;
    const found = await askService(
      cfg.USER_SERVICE_URL,
      `/internal/users?email=${encodeURIComponent(customer)}`,
    );
    return (found?.userId as string | undefined) ?? null;
  }

  router.get('/admin/orders', operator, async (req, res) => {
    const q = validate(adminOrdersQuery, req.query);
    const filter: OrderFilter = {
      ...(q.orderId ? { orderId: q.orderId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.from ? { from: new Date(q.from) } : {}),
      ...(q.to ? { to: new Date(q.to) } : {}),
    };
    if (q.customer) {
      const userId = await customerId(q.customer);
      if (!userId) {
        res.json({ orders: [], nextCursor: null });
        return;
      }
      filter.userId = userId;
    }
    const page = await listOrders(db, filter, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
    res.json({ orders: page.orders.map(adminView), nextCursor: page.nextCursor });
  });

  router.get('/admin/orders/:orderId', operator, async (req, res) => {
    const parsed = orderIdParams.safeParse(req.params);
    const order = parsed.success
      ? await db.getRepository(Order).findOneBy({ id: parsed.data.orderId })
      : null;
    if (!order) throw problems.notFound('No such order');
    const steps = await db.query<
      { at: Date; type: string; status: string; detail: Record<string, unknown> }[]
    >(`SELECT at, type, status, detail FROM order_events WHERE order_id = $1 ORDER BY id`, [order.id]);
    const [ledger, notifications] = await Promise.all([
      askService(cfg.PAYMENT_SERVICE_URL, `/internal/orders/${order.id}/ledger`),
      askService(cfg.NOTIFICATION_SERVICE_URL, `/internal/orders/${order.id}/notifications`),
    ]);
    const query = encodeURIComponent(`OrderId="${order.id}"`);
    res.json({
      order: adminView(order),
      // Its life from the start: created pending, then each step the payment side reported.
      steps: [
        { at: order.createdAt.toISOString(), type: 'order.created', status: 'pending', detail: {} },
        ...steps.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
      ],
      ledger,
      notifications,
      links: {
        temporal: `${cfg.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${cfg.TEMPORAL_NAMESPACE}/workflows?query=${query}`,
      },
    });
  });

  router.get('/admin/stats/orders', operator, async (req, res) => {
    const { minutes } = validate(statsQuery, req.query);
    const rows = await db.query<{ minute: Date; status: string; n: number }[]>(
      `SELECT date_trunc('minute', at) AS minute, status, count(*)::int AS n FROM order_events
         WHERE at > now() - make_interval(mins => $1) GROUP BY 1, 2 ORDER BY 1`,
      [minutes],
    );
    const byMinute = new Map<string, Record<string, number>>();
    for (const r of rows) {
      const key = new Date(r.minute).toISOString();
      byMinute.set(key, { ...byMinute.get(key), [r.status]: r.n });
    }
    res.json({ minutes: [...byMinute].map(([minute, counts]) => ({ minute, counts })) });
  });

  return router;
}
