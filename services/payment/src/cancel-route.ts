import { orderCreateEvent, requireService, validate } from '@paystream/common';
import express, { Router } from 'express';
import { randomUUID } from 'node:crypto';
import { cancelPayment, type AfterSaleDeps } from './after-sale';

/** How long a cancel waits for its outcome before it answers 202 (the order changes when it is known). */
const CANCEL_WAIT_MS = 10_000;

const cancelBody = orderCreateEvent
  .pick({ userId: true, amount: true, currency: true, createdAt: true })
  .strict();

/**
 * POST /internal/orders/:orderId/cancel (service token; the order service calls it for the order's
 * owner, after its own checks). The body is the order as the order service holds it, in case the cancel
 * has to start the payment workflow itself.
 */
export function cancelRoutes(deps: AfterSaleDeps & { serviceToken: string }): Router {
  const router = Router();
  router.post(
    '/internal/orders/:orderId/cancel',
    requireService(deps.serviceToken),
    express.json({ limit: '4kb' }),
    async (req, res) => {
      const { orderId } = validate(orderCreateEvent.pick({ orderId: true }), req.params);
      const order = { ...validate(cancelBody, req.body), orderId, eventId: randomUUID() };
      const outcome = await cancelPayment(deps, order, CANCEL_WAIT_MS);
      req.log.info({ orderId, outcome: outcome?.status ?? 'cancelling' }, 'cancel requested');
      if (!outcome) res.status(202).json({ orderId, status: 'cancelling' });
      else res.json({ orderId, ...outcome });
    },
  );
  return router;
}
