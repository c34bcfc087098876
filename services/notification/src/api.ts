import { ORDER_EVENT_TYPES } from '@paystream/common/events';
import { openApiDocument, type OperationDoc } from '@paystream/common/openapi';
import { z } from 'zod';

/**
 * The notification service's HTTP contract: the operator routes for the dead letter queue and the merchants'
 * webhook endpoints (served at GET /openapi.json, merged by the gateway). It has no customer-facing route.
 */
export const dlqReplayBody = z
  .strictObject({ orderId: z.uuid().optional(), all: z.literal(true).optional() })
  .refine((b) => (b.orderId === undefined) !== (b.all === undefined), {
    message: 'send exactly one of orderId or all',
  })
  .meta({ oneOf: [{ required: ['orderId'] }, { required: ['all'] }] });

export const endpointBody = z.strictObject({
  url: z
    .string()
    .max(2000)
    .meta({
      description:
        'https (in development also http to this machine); never an address inside a private network.',
      examples: ['https://erp.example.com/paystream-events'],
    }),
  eventTypes: z.array(z.enum(ORDER_EVENT_TYPES)).min(1).max(ORDER_EVENT_TYPES.length),
  description: z.string().trim().min(1).max(200).optional(),
});
export const rotateBody = z.strictObject({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(24 * 3600)
    .meta({ description: 'How long the old secret still signs (both signatures are sent meanwhile).' }),
});
export const deliveriesQuery = z.strictObject({
  endpointId: z
    .string()
    .regex(/^we_[a-z0-9]{12}$/)
    .optional(),
  orderId: z.uuid().optional(),
  status: z.enum(['pending', 'delivered', 'failed', 'skipped']).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.string()),
  status: z.enum(['enabled', 'disabled']),
  disabledReason: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
});
const deliverySchema = z.looseObject({
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  orderId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed', 'skipped']),
  attempts: z.number().int(),
  attemptLog: z.array(
    z.object({
      at: z.string(),
      statusCode: z.number().int().nullable(),
      latencyMs: z.number().int(),
      error: z.string().nullable(),
    }),
  ),
});
const endpointParams = z.object({ id: z.string().regex(/^we_[a-z0-9]{12}$/) });

const op = (o: Omit<OperationDoc, 'tag' | 'auth'>): OperationDoc => ({
  ...o,
  tag: 'Operator',
  auth: 'operator',
});
const operations: OperationDoc[] = [
  op({
    method: 'get',
    path: '/admin/dlq',
    operationId: 'listDlq',
    summary: 'Emails whose retries are spent (notification.dlq)',
    scope: 'orders:read',
    responses: {
      200: {
        description: 'Every entry, oldest first.',
        body: z.object({ entries: z.array(z.looseObject({})) }),
      },
    },
    problems: {},
  }),
  op({
    method: 'post',
    path: '/admin/dlq/replay',
    operationId: 'replayDlq',
    summary: "Send an order's dead-lettered emails again (an email sent is never sent twice)",
    scope: 'dlq:write',
    body: dlqReplayBody,
    bodyExample: { orderId: '0b7f7a0e-6a3b-4b6e-9a55-1d2f0c3e4a5b' },
    responses: {
      200: {
        description: 'What each entry came to.',
        body: z.object({ outcomes: z.array(z.looseObject({})) }),
      },
    },
    problems: {},
  }),
  op({
    method: 'get',
    path: '/admin/webhooks/endpoints',
    operationId: 'listWebhookEndpoints',
    summary: "The merchant's webhook endpoints (secrets are never shown again)",
    scope: 'webhooks:write',
    responses: {
      200: { description: 'Oldest first.', body: z.object({ endpoints: z.array(endpointSchema) }) },
    },
    problems: {},
  }),
  op({
    method: 'post',
    path: '/admin/webhooks/endpoints',
    operationId: 'createWebhookEndpoint',
    summary: 'Register an endpoint for order events (Standard Webhooks); the secret is shown once',
    scope: 'webhooks:write',
    body: endpointBody,
    bodyExample: {
      url: 'https://erp.example.com/paystream-events',
      eventTypes: ['order.paid', 'order.refunded'],
    },
    responses: {
      201: {
        description: 'Registered; `secret` (`whsec_…`) verifies the signatures and is not shown again.',
        body: endpointSchema.extend({ secret: z.string() }),
      },
    },
    problems: {},
  }),
  op({
    method: 'post',
    path: '/admin/webhooks/endpoints/:id/rotate',
    operationId: 'rotateWebhookSecret',
    summary: "Rotate an endpoint's secret; the old one still signs for the overlap",
    scope: 'webhooks:write',
    params: endpointParams,
    body: rotateBody,
    bodyOptional: true,
    responses: {
      200: {
        description: 'The new secret, shown once.',
        body: z.object({ id: z.string(), secret: z.string(), previousValidForSeconds: z.number().int() }),
      },
    },
    problems: { 404: 'No such endpoint.' },
  }),
  ...(['disable', 'enable'] as const).map((what) =>
    op({
      method: 'post',
      path: `/admin/webhooks/endpoints/:id/${what}`,
      operationId: `${what}WebhookEndpoint`,
      summary: what === 'disable' ? 'Stop delivering to an endpoint' : 'Deliver to an endpoint again',
      scope: 'webhooks:write',
      params: endpointParams,
      responses: { 200: { description: 'The endpoint.', body: endpointSchema } },
      problems: { 400: 'Not an endpoint id.', 404: 'No such endpoint.' },
    }),
  ),
  op({
    method: 'get',
    path: '/admin/webhooks/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The delivery log: each delivery and every attempt (status code, latency, error)',
    scope: 'orders:read',
    query: deliveriesQuery,
    responses: {
      200: {
        description: 'Newest first; `nextCursor` is null on the last page.',
        body: z.object({ deliveries: z.array(deliverySchema), nextCursor: z.string().nullable() }),
      },
    },
    problems: { 400: 'Invalid query.' },
  }),
  op({
    method: 'post',
    path: '/admin/webhooks/deliveries/:id/redeliver',
    operationId: 'redeliverWebhook',
    summary: 'Deliver the same message again (same webhook-id)',
    scope: 'webhooks:write',
    params: z.object({ id: z.string().regex(/^\d{1,18}$/) }),
    responses: {
      202: {
        description: 'Queued behind the order’s other deliveries.',
        body: z.object({ id: z.string(), status: z.string() }),
      },
    },
    problems: { 404: 'No such delivery.', 409: 'The endpoint is disabled.' },
  }),
];

export const notificationApi = openApiDocument(
  { title: 'Paystream notifications (operator)', version: '1' },
  operations,
);
