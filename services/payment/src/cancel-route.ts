import { requireService } from '@paystream/common/auth';
import { orderCreateEvent } from '@paystream/common/events';
import { jsonBody, validate } from '@paystream/common/http';
import { HttpProblem } from '@paystream/common/problem';
import { Router } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { cancelPayment, PaymentRefused, type AfterSaleDeps } from './after-sale';

const cancelBody = orderCreateEvent
  .pick({ userId: true, amount: true, currency: true, createdAt: true })
  .extend({
    /** The order's status and PaymentIntent as the order service holds them. */
    status: z.string().min(1).max(40),
    paymentIntentId: z
      .string()
      .regex(/^pi_[A-Za-z0-9_]{1,200}$/)
      .optional(),
  })
  .strict();
const PAID = new Set(['paid', 'partially_refunded', 'dispute_won']);

/**
 * POST /internal/orders/:orderId/cancel (service token; the order service calls it for the order's
 * owner, after its own checks). The body is the order as the order service holds it, in case the cancel
 * has to start the payment workflow itself.
 */
export function cancelRoutes(
  deps: AfterSaleDeps & {
    serviceToken: string;
    /** How long a cancel waits for its outcome before it answers 202 (cancelTimings: below the gateway's timeout). */
    waitMs: number;
  },
): Router {
  const router = Router();
  router.post(
    '/internal/orders/:orderId/cancel',
    requireService(deps.serviceToken),
    ...jsonBody('4kb'),
    async (req, res) => {
      const { orderId } = validate(orderCreateEvent.pick({ orderId: true }), req.params);
      const { status, paymentIntentId, ...held } = validate(cancelBody, req.body);
      const order = { ...held, orderId, eventId: randomUUID() };
      const paidIntentId = PAID.has(status) ? paymentIntentId : undefined;
      const outcome = await cancelPayment(deps, order, deps.waitMs, paidIntentId).catch((err: unknown) => {
        throw err instanceof PaymentRefused ? problemOf(err) : err;
      });
      req.log.info({ orderId, outcome: outcome?.status ?? 'cancelling' }, 'cancel requested');
      if (!outcome) res.status(202).json({ orderId, status: 'cancelling' });
      else res.json({ orderId, ...outcome });
    },
  );
  return router;
}

/**
 * A refusal in HTTP terms: the payment does not allow it (409: `refund-refused` for a cancel or refund,
 * `payment-refused` for a capture or void), or the request is malformed (400).
 */
export function problemOf(refusal: PaymentRefused, type = 'refund-refused'): HttpProblem {
  return refusal.kind === 'invalid'
    ? new HttpProblem(400, 'validation-error', refusal.message)
    : new HttpProblem(409, type, refusal.message);
}
