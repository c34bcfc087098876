import { randomUUID } from 'node:crypto';
import { requireService } from '@paystream/common/auth';
import { jsonBody, validate } from '@paystream/common/http';
import { operatorAudit, recordAudit, requireOperator } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import type { Client } from '@temporalio/client';
import {
  NOTIFICATION_WORKFLOW,
  WEBHOOK_WORKFLOW,
  webhookDeliverySignal,
  webhookStartOptions,
  type RetryBudget,
  type webhookDeliveryWorkflow,
  type WebhookRetry,
} from '@paystream/workflows';
import { Router, type Request } from 'express';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { deliveriesQuery, dlqReplayBody, endpointBody, rotateBody } from './api';
import { readDlq } from './dlq/read';
import { replayDlq } from './dlq/replay';
import { endpointUrlProblem, type WebhookStore } from './webhooks/endpoints';

export interface AdminDeps {
  store: WebhookStore;
  client: Client;
  kafka: Kafka;
  retry: RetryBudget;
  webhookRetry: WebhookRetry;
  production: boolean;
  serviceToken: string;
  userServiceUrl: string;
  taskQueue?: string;
}

const endpointParams = z.object({ id: z.string().regex(/^we_[a-z0-9]{12}$/) });
const orderParams = z.object({ orderId: z.uuid() });

/**
 * The operator API's notification routes (through the gateway, with an API key): the dead letter queue (list,
 * replay — the code `npm run ops -- dlq` runs), the merchants' webhook endpoints (register, rotate the secret,
 * disable, enable) and their delivery log (list, redeliver). Every change is one audit entry.
 */
export function adminRoutes(deps: AdminDeps): Router {
  const router = Router();
  // Room for the largest valid body (a 2,000-character URL, each character JSON-escaped), within the gateway's cap.
  const json = jsonBody('64kb');
  const audit = async (
    req: Request,
    action: string,
    target: string,
    key: string,
    outcome = 'ok',
    reason?: string,
  ) => {
    await recordAudit(
      { userServiceUrl: deps.userServiceUrl, serviceToken: deps.serviceToken },
      operatorAudit(req, { action, target, key, outcome, reason }),
    );
  };
  const write = requireOperator(deps.serviceToken, 'webhooks:write');
  const read = requireOperator(deps.serviceToken, 'orders:read');

  router.get('/admin/dlq', read, async (_req, res) => {
    const records = await readDlq(deps.kafka);
    res.json({ entries: records });
  });

  router.post(
    '/admin/dlq/replay',
    requireOperator(deps.serviceToken, 'dlq:write'),
    ...json,
    async (req, res) => {
      const select = validate(dlqReplayBody, req.body ?? {});
      const outcomes = await replayDlq(
        deps.client,
        await readDlq(deps.kafka),
        deps.retry,
        select,
        deps.taskQueue,
      );
      const target = select.orderId ? `order:${select.orderId}` : 'dlq:all';
      await audit(
        req,
        'dlq.replay',
        target,
        req.id,
        `${outcomes.filter((o) => o.outcome === 'replayed').length} replayed`,
      );
      res.json({ outcomes });
    },
  );

  router.get('/admin/webhooks/endpoints', write, async (_req, res) => {
    res.json({ endpoints: await deps.store.endpoints() });
  });

  router.post('/admin/webhooks/endpoints', write, ...json, async (req, res) => {
    const body = validate(endpointBody, req.body);
    const unsafe = await endpointUrlProblem(body.url, deps.production);
    if (unsafe) throw problems.validation([{ field: 'url', message: unsafe }]);
    const { endpoint, secret } = await deps.store.createEndpoint(body);
    await audit(req, 'webhook.endpoint.create', `endpoint:${endpoint.id}`, endpoint.id, 'ok', body.url);
    res.status(201).json({ ...endpoint, secret });
  });

  router.post('/admin/webhooks/endpoints/:id/rotate', write, ...json, async (req, res) => {
    const { id } = validate(endpointParams, req.params);
    const { overlapSeconds } = validate(rotateBody, req.body ?? {});
    const secret = await deps.store.rotate(id, overlapSeconds);
    if (!secret) throw problems.notFound('No such endpoint');
    await audit(
      req,
      'webhook.secret.rotate',
      `endpoint:${id}`,
      randomUUID(),
      'ok',
      `overlap ${overlapSeconds} s`,
    );
    res.json({ id, secret, previousValidForSeconds: overlapSeconds });
  });

  for (const status of ['disable', 'enable'] as const)
    router.post(`/admin/webhooks/endpoints/:id/${status}`, write, async (req, res) => {
      const { id } = validate(endpointParams, req.params);
      const endpoint = await deps.store.setStatus(id, status === 'disable' ? 'disabled' : 'enabled');
      if (!endpoint) throw problems.notFound('No such endpoint');
      await audit(req, `webhook.endpoint.${status}`, `endpoint:${id}`, randomUUID());
      res.json(endpoint);
    });

  router.get('/admin/webhooks/deliveries', read, async (req, res) => {
    const q = validate(deliveriesQuery, req.query);
    const deliveries = await deps.store.deliveries({
      ...(q.endpointId ? { endpointId: q.endpointId } : {}),
      ...(q.orderId ? { orderId: q.orderId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.cursor ? { before: q.cursor } : {}),
      limit: q.limit,
    });
    res.json({ deliveries, nextCursor: deliveries.length === q.limit ? deliveries.at(-1)!.id : null });
  });

  router.post('/admin/webhooks/deliveries/:id/redeliver', write, async (req, res) => {
    const id = z
      .string()
      .regex(/^\d{1,18}$/)
      .safeParse(req.params.id);
    const delivery = id.success ? await deps.store.delivery(id.data) : undefined;
    if (!delivery) throw problems.notFound('No such delivery');
    const endpoint = await deps.store.endpoint(delivery.endpointId);
    if (endpoint?.status !== 'enabled') throw problems.conflict('The endpoint is disabled: enable it first');
    // The same message again (same webhook-id): a receiver that has it already knows it is a repeat.
    await deps.store.reopen(delivery.id);
    await deps.client.workflow.signalWithStart<typeof webhookDeliveryWorkflow, [{ deliveryId: string }]>(
      WEBHOOK_WORKFLOW,
      {
        ...webhookStartOptions(
          { endpointId: delivery.endpointId, orderId: delivery.orderId, retry: deps.webhookRetry },
          deps.taskQueue,
        ),
        signal: webhookDeliverySignal,
        signalArgs: [{ deliveryId: delivery.id }],
      },
    );
    await audit(
      req,
      'webhook.delivery.redeliver',
      `order:${delivery.orderId}`,
      randomUUID(),
      'ok',
      `delivery ${delivery.id}`,
    );
    res.status(202).json({ id: delivery.id, status: 'pending' });
  });

  // An order's emails and webhook deliveries, for the operator's timeline (the order service asks).
  router.get(
    '/internal/orders/:orderId/notifications',
    requireService(deps.serviceToken),
    async (req, res) => {
      const { orderId } = validate(orderParams, req.params);
      const emails: { workflowId: string; status: string; startedAt: string; closedAt: string | null }[] = [];
      const query = `WorkflowType = '${NOTIFICATION_WORKFLOW}' AND OrderId = '${orderId}'`;
      for await (const w of deps.client.workflow.list({ query }))
        emails.push({
          workflowId: w.workflowId,
          // Completed: sent; failed: dead-lettered (replayable); running: still trying.
          status:
            w.status.name === 'COMPLETED'
              ? 'sent'
              : w.status.name === 'FAILED'
                ? 'dead-lettered'
                : w.status.name.toLowerCase(),
          startedAt: w.startTime.toISOString(),
          closedAt: w.closeTime?.toISOString() ?? null,
        });
      res.json({ emails, webhooks: await deps.store.deliveries({ orderId, limit: 100 }) });
    },
  );

  return router;
}
