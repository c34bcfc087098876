import { requireService } from '@paystream/common/auth';
import { jsonBody, validate } from '@paystream/common/http';
import { operatorAudit, recordAudit, requireOperator, type AuditEntry } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import { Router, type Request } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { captureOrder, PaymentRefused, refundOrder, voidOrder, type AfterSaleDeps } from './after-sale';
import { problemOf } from './cancel-route';
import { captureBody, driftQuery, IDEMPOTENCY_KEY, refundBody, resolveDriftBody } from './api';
import type { Ledger } from './ledger/ledger';

export interface AdminDeps {
  afterSale: AfterSaleDeps;
  ledger: Ledger;
  serviceToken: string;
  userServiceUrl: string;
}

const orderParams = z.object({ orderId: z.uuid() });

/**
 * The operator API's money routes (through the gateway, with an API key): refund, capture and void an order,
 * and reconciliation's drift. The same code the CLI runs (after-sale.ts, the ledger). Each action, done or
 * refused, is one entry of the audit log: its id comes from the key, the action, the order and the request's
 * Idempotency-Key (or its own id), so a retried request is the same entry — and, for refunds and captures,
 * the same refund or capture (the key is their request id).
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  // Room for the largest valid body (a 500-character reason, each character JSON-escaped).
  const json = jsonBody('16kb');
  const audit = (entry: AuditEntry) =>
    recordAudit({ userServiceUrl: deps.userServiceUrl, serviceToken: deps.serviceToken }, entry);

  /** Runs an operator action and records it, done or refused, before answering. */
  async function audited<T>(
    req: Request,
    action: string,
    target: string,
    requestId: string,
    reason: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    const problemType = action.startsWith('refund') ? 'refund-refused' : 'payment-refused';
    const entry = (outcome: string): AuditEntry =>
      operatorAudit(req, { action, target, key: requestId, outcome, reason });
    let result: T;
    try {
      result = await work();
    } catch (err) {
      if (!(err instanceof PaymentRefused)) throw err;
      await audit(entry(`refused: ${err.message}`));
      throw problemOf(err, problemType);
    }
    await audit(entry('ok'));
    return result;
  }

  const requestIdOf = (req: Request): string => {
    const key = req.get('idempotency-key');
    if (key === undefined) return randomUUID();
    if (!IDEMPOTENCY_KEY.test(key))
      throw problems.validation([
        { field: 'Idempotency-Key', message: 'must be 1-100 of A-Z a-z 0-9 _ . : -' },
      ]);
    return key;
  };

  router.post(
    '/admin/orders/:orderId/refunds',
    requireOperator(deps.serviceToken, 'refunds:write'),
    ...json,
    async (req, res) => {
      const { orderId } = validate(orderParams, req.params);
      const body = validate(refundBody, req.body ?? {});
      const requestId = requestIdOf(req);
      const outcome = await audited(req, 'refund.create', `order:${orderId}`, requestId, body.reason, () =>
        refundOrder(deps.afterSale, orderId, { requestId, ...body }),
      );
      res.status(201).json({ orderId, requestId, ...outcome });
    },
  );

  router.post(
    '/admin/orders/:orderId/capture',
    requireOperator(deps.serviceToken, 'captures:write'),
    ...json,
    async (req, res) => {
      const { orderId } = validate(orderParams, req.params);
      const body = validate(captureBody, req.body ?? {});
      const requestId = requestIdOf(req);
      const outcome = await audited(req, 'capture.create', `order:${orderId}`, requestId, undefined, () =>
        captureOrder(deps.afterSale, orderId, { requestId, ...body }),
      );
      res.status(201).json({ orderId, requestId, ...outcome });
    },
  );

  router.post(
    '/admin/orders/:orderId/void',
    requireOperator(deps.serviceToken, 'captures:write'),
    async (req, res) => {
      const { orderId } = validate(orderParams, req.params);
      const outcome = await audited(req, 'capture.void', `order:${orderId}`, 'void', undefined, () =>
        voidOrder(deps.afterSale, orderId),
      );
      res.json({ orderId, ...outcome });
    },
  );

  router.get('/admin/drift', requireOperator(deps.serviceToken, 'recon:read'), async (req, res) => {
    const q = validate(driftQuery, req.query);
    const drift = await deps.ledger.drift({ includeResolved: q.all, limit: q.limit });
    res.json({ drift });
  });

  router.post(
    '/admin/drift/:id/resolve',
    requireOperator(deps.serviceToken, 'recon:write'),
    ...json,
    async (req, res) => {
      const id = z
        .string()
        .regex(/^\d{1,18}$/)
        .safeParse(req.params.id);
      if (!id.success) throw problems.notFound('No such finding');
      const { reason } = validate(resolveDriftBody, req.body ?? {});
      if (!(await deps.ledger.driftById(id.data))) throw problems.notFound('No such finding');
      const row = await audited(req, 'drift.resolve', `drift:${id.data}`, id.data, reason, async () =>
        deps.ledger.resolveDrift(id.data, reason),
      );
      res.json(row);
    },
  );

  // The order's money as the ledger holds it, for the operator's order timeline (the order service asks).
  router.get('/internal/orders/:orderId/ledger', requireService(deps.serviceToken), async (req, res) => {
    const { orderId } = validate(orderParams, req.params);
    res.json({
      payment: (await deps.ledger.payment(orderId)) ?? null,
      movements: await deps.ledger.movements(orderId),
      disputes: await deps.ledger.disputesOf(orderId),
    });
  });

  return router;
}
