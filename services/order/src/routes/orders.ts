import { requireUser } from '@paystream/common/auth';
import { cancelTimings, type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { problems } from '@paystream/common/problem';
import { trace } from '@opentelemetry/api';
import { Router, type Request } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Order } from '../db/entities';
import { listOrders } from '../domain/order-history';
import { cancelOrder } from '../domain/cancel-order';
import { createOrder, orderView } from '../domain/orders';
import { createOrderBody, IDEMPOTENCY_KEY, orderHistoryQuery } from '../api';

const uuid = z.uuid();

/** The rest of this request's log lines (the access log too) and its span name the order. */
function tagOrder(req: Request, orderId: string): void {
  req.log = req.log.child({ orderId });
  trace.getActiveSpan()?.setAttribute('paystream.order_id', orderId);
}

export function orderRoutes(db: DataSource, cfg: Config): Router {
  const router = Router();
  router.use(requireUser(cfg.SERVICE_TOKEN));

  // POST /create {amount | items, currency, capture?} with an optional Idempotency-Key header.
  router.post('/create', async (req, res) => {
    const { capture, ...body } = validate(createOrderBody, req.body);
    const key = req.get('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
      throw problems.validation([
        { field: 'Idempotency-Key', message: 'must be 1-128 of A-Z a-z 0-9 _ . : -' },
      ]);
    const captureMethod = capture ?? cfg.ORDER_DEFAULT_CAPTURE;
    const { order, replayed } = await createOrder(db, req.userId!, { ...body, captureMethod }, key);
    tagOrder(req, order.id);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    else req.log.info({ amount: order.amount }, 'order created');
    res
      .status(replayed ? 200 : 201)
      .location(`/orders/status/${order.id}`)
      .json(orderView(order));
  });

  /** The caller's own order; anyone else's is "not found". */
  async function ownOrder(req: Request): Promise<Order> {
    const orderId = uuid.safeParse(req.params.orderId);
    if (orderId.success) tagOrder(req, orderId.data);
    const order = orderId.success
      ? await db.getRepository(Order).findOneBy({ id: orderId.data, userId: req.userId! })
      : null;
    if (!order) throw problems.notFound('No such order');
    return order;
  }

  // GET /status/:orderId
  router.get('/status/:orderId', async (req, res) => {
    res.json(orderView(await ownOrder(req)));
  });

  // POST /:orderId/cancel — not charged yet: cancelled; paid: refunded in full. The same again: the same outcome.
  router.post('/:orderId/cancel', async (req, res) => {
    const answer = await cancelOrder(await ownOrder(req), {
      url: cfg.PAYMENT_SERVICE_URL,
      serviceToken: cfg.SERVICE_TOKEN,
      timeoutMs: cancelTimings(cfg).orderCallMs,
    });
    req.log.info({ outcome: answer.body.status }, 'order cancel');
    res.status(answer.httpStatus).json(answer.body);
  });

  // GET /?limit=20&cursor=…&status=… — the caller's orders, newest first (keyset pagination).
  router.get('/', async (req, res) => {
    const query = validate(orderHistoryQuery, req.query);
    const { status, ...page } = query;
    const found = await listOrders(db, { userId: req.userId!, ...(status ? { status } : {}) }, page);
    res.json({ orders: found.orders.map(orderView), nextCursor: found.nextCursor });
  });

  return router;
}
