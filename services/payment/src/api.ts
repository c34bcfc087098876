import { STRIPE_WEBHOOK_EVENTS } from '@paystream/common/events';
import { openApiDocument, type OperationDoc } from '@paystream/common/openapi';
import { z } from 'zod';

/**
 * The payment service's public HTTP contract: Stripe's webhook endpoint, the one route the gateway
 * forwards here (served at GET /openapi.json, merged by the gateway). The order service's cancel is
 * internal and not in it.
 */
const stripeEvent = z
  .looseObject({
    id: z.string(),
    object: z.literal('event'),
    type: z.string(),
    created: z.number().int(),
    data: z.looseObject({ object: z.looseObject({}) }),
  })
  .meta({ description: `A Stripe event; acted on: ${STRIPE_WEBHOOK_EVENTS.join(', ')}.` });

export const webhookAnswerSchema = z.object({ received: z.literal(true) });

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;
const idempotencyHeader = z.object({
  'Idempotency-Key': z.string().regex(IDEMPOTENCY_KEY).optional().meta({
    description:
      'Names the request: asking again with the same key answers the same refund or capture, never a second.',
  }),
});
const amount = z.number().int().min(1).max(99_999_999);
const orderParams = z.object({ orderId: z.uuid() });

export const refundBody = z.strictObject({
  amount: amount.optional().meta({ description: 'Minor units; all that is left when absent.' }),
  reason: z.string().trim().min(1).max(500).optional(),
});
export const captureBody = z.strictObject({
  amount: amount
    .optional()
    .meta({ description: 'Minor units, at most what is authorized; all of it when absent.' }),
});
export const driftQuery = z.strictObject({
  all: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: 'Resolved findings too.' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const resolveDriftBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

const refundAnswer = z.object({
  orderId: z.uuid(),
  requestId: z.string(),
  status: z.enum(['partially_refunded', 'refunded']),
  refundId: z.string(),
  amount,
  refundedAmount: z.number().int(),
});
const captureAnswer = z.object({
  orderId: z.uuid(),
  requestId: z.string(),
  status: z.literal('succeeded'),
  capturedAmount: amount,
  releasedAmount: z.number().int().min(0),
});
const driftFinding = z.looseObject({
  id: z.string(),
  kind: z.string(),
  orderId: z.string().nullable(),
  stripeObjectId: z.string(),
  detail: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
});

const operations: OperationDoc[] = [
  {
    method: 'post',
    path: '/webhooks/stripe',
    operationId: 'receiveStripeWebhook',
    summary: "Stripe's webhook endpoint (for Stripe, not for clients)",
    description:
      'Signed by Stripe; checked on the raw body before anything else. An event is a hint: the order’s ' +
      'workflow re-reads the PaymentIntent. Repeated events have no second effect.',
    tag: 'Stripe',
    auth: 'public',
    headers: z.object({
      'Stripe-Signature': z
        .string()
        .max(2000)
        .meta({ description: '`t=<unix time>,v1=<HMAC-SHA256 of "t.body" with the endpoint secret>`' }),
    }),
    body: stripeEvent,
    rawBody: true,
    responses: {
      200: { description: 'Received.', body: webhookAnswerSchema },
    },
    problems: {
      400: 'The signature does not match the body, or is too old.',
      500: 'Temporal or Kafka failed to take the event; Stripe delivers it again.',
      503: 'Temporal or Kafka is briefly unavailable; Stripe delivers it again.',
    },
  },
  {
    method: 'post',
    path: '/admin/orders/:orderId/refunds',
    operationId: 'refundOrder',
    summary: 'Refund a paid order, in part or in full',
    description:
      'Checked against what Stripe holds just before (a refund made in the dashboard counts). Refused, and nothing ' +
      'moves, for more than is left, an order not paid, or a dispute open. Recorded in the audit log either way.',
    tag: 'Operator',
    auth: 'operator',
    scope: 'refunds:write',
    params: orderParams,
    headers: idempotencyHeader,
    body: refundBody,
    bodyOptional: true,
    bodyExample: { amount: 500, reason: 'damaged box' },
    responses: { 201: { description: 'Refunded.', body: refundAnswer } },
    problems: { 409: 'Not refundable: more than is left, not paid, a dispute open.' },
  },
  {
    method: 'post',
    path: '/admin/orders/:orderId/capture',
    operationId: 'captureOrder',
    summary: 'Capture an authorized order (capture: manual), all of it or part, once',
    description: 'The rest of the authorization is released. Recorded in the audit log, done or refused.',
    tag: 'Operator',
    auth: 'operator',
    scope: 'captures:write',
    params: orderParams,
    headers: idempotencyHeader,
    body: captureBody,
    bodyOptional: true,
    bodyExample: { amount: 3500 },
    responses: { 201: { description: 'Captured.', body: captureAnswer } },
    problems: {
      409: 'Not capturable: more than authorized, captured already, not authorized, voided or lapsed, charged at once.',
    },
  },
  {
    method: 'post',
    path: '/admin/orders/:orderId/void',
    operationId: 'voidOrder',
    summary: 'Void an authorized order: the hold is released, nothing is taken',
    tag: 'Operator',
    auth: 'operator',
    scope: 'captures:write',
    params: orderParams,
    responses: {
      200: {
        description: 'Voided; the order becomes cancelled.',
        body: z.object({ orderId: z.uuid(), status: z.string() }),
      },
    },
    problems: {
      400: 'Not an order id.',
      409: 'Not voidable: not authorized, a capture asked for, charged at once.',
    },
  },
  {
    method: 'get',
    path: '/admin/drift',
    operationId: 'listDrift',
    summary: "Reconciliation's findings: differences between Stripe, the ledger and the orders",
    tag: 'Operator',
    auth: 'operator',
    scope: 'recon:read',
    query: driftQuery,
    responses: { 200: { description: 'Newest first.', body: z.object({ drift: z.array(driftFinding) }) } },
    problems: { 400: 'Invalid query.' },
  },
  {
    method: 'post',
    path: '/admin/drift/:id/resolve',
    operationId: 'resolveDrift',
    summary: 'Resolve a finding, with the reason',
    tag: 'Operator',
    auth: 'operator',
    scope: 'recon:write',
    params: z.object({ id: z.string().regex(/^\d{1,18}$/) }),
    body: resolveDriftBody,
    bodyExample: { reason: 'refunded the second intent in the dashboard (re_123)' },
    responses: { 200: { description: 'Resolved (resolving again changes nothing).', body: driftFinding } },
    problems: { 404: 'No such finding.' },
  },
];

export const paymentApi = openApiDocument(
  { title: 'Paystream Stripe webhooks and the operator money routes', version: '1' },
  operations,
);
