import { requireService } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';

/** Service to service only (the gateway never forwards /internal): the payment service's reconciliation. */
const statusesBody = z.strictObject({ orderIds: z.array(z.uuid()).min(1).max(200) });

export interface OrderStatusRow {
  orderId: string;
  status: string;
  refundedAmount: number;
  paymentIntentId: string | null;
}

export function internalRoutes(db: DataSource, cfg: Config): Router {
  const router = Router();
  // POST /internal/statuses {orderIds} → what the order service holds of each (unknown ids are left out).
  router.post('/internal/statuses', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const { orderIds } = validate(statusesBody, req.body);
    const orders = await db.query<OrderStatusRow[]>(
      `SELECT id AS "orderId", status, refunded_amount::int AS "refundedAmount",
          payment_intent_id AS "paymentIntentId" FROM orders WHERE id = ANY($1::uuid[])`,
      [orderIds],
    );
    res.json({ orders });
  });
  return router;
}
