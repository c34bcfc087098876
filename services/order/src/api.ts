import { amountRule, isStripeCurrency, STRIPE_CURRENCIES } from '@paystream/common/currencies';
import { CAPTURE_METHODS, nextAction } from '@paystream/common/events';
import { openApiDocument, type OperationDoc } from '@paystream/common/openapi';
import { z } from 'zod';
import { ORDER_STATUSES } from './domain/order-status';

/**
 * The order service's public HTTP contract: the zod schemas its routes validate with, and the OpenAPI
 * operations built from them (served at GET /openapi.json, merged by the gateway under /orders).
 */
const MAX_AMOUNT = 99_999_999; // Stripe's own ceiling, in minor units
const amount = z.number().int().min(1).max(MAX_AMOUNT);
// The document keeps the 3-letter pattern (the exact set is in the description): a JSON Schema enum is
// case-sensitive, and any case is accepted, so an enum would call valid input invalid.
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 code')
  .transform((c) => c.toLowerCase())
  .refine(isStripeCurrency, 'must be a currency Stripe can charge (GET /openapi.json lists them)')
  .meta({
    description: `ISO 4217 code, any case; answered in lower case. One of the currencies Stripe can charge: ${STRIPE_CURRENCIES.join(', ')}.`,
    examples: ['EUR'],
  });
const item = z.strictObject({
  sku: z.string().trim().min(1).max(64),
  quantity: z.number().int().min(1).max(1000),
  unitAmount: amount.meta({ description: 'Price of one, in minor units.' }),
});

export const createOrderBody = z
  .strictObject({
    amount: amount.optional().meta({ description: 'Total in minor units (cents).' }),
    items: z.array(item).min(1).max(100).optional(),
    currency,
    capture: z
      .enum(CAPTURE_METHODS)
      .optional()
      .meta({
        description:
          '`automatic`: charged at once. `manual`: the card is authorized now (the order becomes `authorized`) ' +
          'and captured later by the merchant — in full or in part, at most once — or voided; an authorization ' +
          'not captured within its lifetime (7 days by default) is voided or captured by itself, as the ' +
          "merchant configured. Absent: the merchant's default (ORDER_DEFAULT_CAPTURE).",
      }),
  })
  .refine((b) => (b.amount === undefined) !== (b.items === undefined), {
    message: 'send exactly one of amount or items',
  })
  .transform((b) => ({
    currency: b.currency,
    items: b.items ?? null,
    amount: b.amount ?? b.items!.reduce((sum, i) => sum + i.quantity * i.unitAmount, 0),
    capture: b.capture,
  }))
  .refine((b) => b.amount <= MAX_AMOUNT, { message: `total must be at most ${MAX_AMOUNT}`, path: ['items'] })
  // What Stripe refuses to charge (below the currency's minimum, a fraction it cannot take) is refused
  // here, naming the field the client sent, rather than ending as a failed payment.
  .superRefine((b, ctx) => {
    const reason = amountRule(b.currency, b.amount);
    if (reason)
      ctx.addIssue({
        code: 'custom',
        message: b.items ? `total ${reason}` : reason,
        path: [b.items ? 'items' : 'amount'],
      });
  })
  .meta({
    description:
      `Exactly one of \`amount\` or \`items\` (whose total must be at most ${MAX_AMOUNT}). The amount, or the ` +
      "items' total, must be one Stripe can charge in the currency: at least its minimum charge, ending in 0 " +
      'for the three-decimal currencies (BHD, JOD, KWD, OMR, TND), a multiple of 100 for ISK and UGX (whole ' +
      'units, written with two decimals).',
    oneOf: [{ required: ['amount'] }, { required: ['items'] }],
  });

export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const createOrderHeaders = z.object({
  'Idempotency-Key': z.string().regex(IDEMPOTENCY_KEY).optional().meta({
    description:
      'Sending the same key again (same user, same body) answers the first order (200) instead of a second.',
  }),
});

export const orderHistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().meta({ description: '`nextCursor` of the previous page.' }),
  status: z.enum(ORDER_STATUSES).optional(),
});

const orderIdParams = z.object({ orderId: z.uuid() });

export const orderViewSchema = z.object({
  orderId: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  amount,
  currency: z.string(),
  capture: z.enum(CAPTURE_METHODS),
  capturedAmount: amount.optional().meta({
    description:
      'Once paid: what was taken (less than `amount` after a partial capture; refunds count against it).',
  }),
  items: z.array(item).optional(),
  failureReason: z.string().optional(),
  paymentIntentId: z.string().optional(),
  refundedAmount: z.number().int().min(0),
  nextAction: nextAction
    .optional()
    .meta({ description: 'With requires_action: hand `clientSecret` to Stripe.js (confirmCardPayment).' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type OrderView = z.output<typeof orderViewSchema>;

export const cancelAnswerSchema = z.object({
  orderId: z.uuid(),
  status: z.string(),
  refundedAmount: z.number().int().min(0).optional(),
});

const orderExample = {
  orderId: '0b7f7a0e-6a3b-4b6e-9a55-1d2f0c3e4a5b',
  status: 'pending',
  amount: 4200,
  currency: 'eur',
  capture: 'automatic',
  refundedAmount: 0,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
};

const TAG = 'Orders';
const operations: OperationDoc[] = [
  {
    method: 'post',
    path: '/create',
    operationId: 'createOrder',
    summary: 'Place an order',
    description:
      'The order starts `pending`; the payment runs in the background. Follow it with GET /orders/status/{orderId}.',
    tag: TAG,
    auth: 'user',
    headers: createOrderHeaders,
    body: createOrderBody,
    bodyExample: { amount: 4200, currency: 'EUR' },
    responses: {
      201: {
        description: 'Created, pending payment.',
        body: orderViewSchema,
        example: orderExample,
        headers: { Location: 'The order status URL.' },
      },
      200: {
        description: 'The order this Idempotency-Key already created.',
        body: orderViewSchema,
        headers: { 'Idempotent-Replayed': '`true`', Location: 'The order status URL.' },
      },
    },
    problems: {
      400: 'Invalid body or Idempotency-Key.',
      409: 'This Idempotency-Key was used for a different order.',
    },
  },
  {
    method: 'get',
    path: '/status/:orderId',
    operationId: 'getOrder',
    summary: 'An order and its payment status',
    tag: TAG,
    auth: 'user',
    params: orderIdParams,
    responses: { 200: { description: 'The order.', body: orderViewSchema, example: orderExample } },
    problems: { 404: 'No such order of yours.' },
  },
  {
    method: 'post',
    path: '/:orderId/cancel',
    operationId: 'cancelOrder',
    summary: 'Cancel an order (voided when authorized, refunded in full when already paid)',
    description:
      'Repeating a cancel answers the same outcome; a card is never refunded twice. An authorized order ' +
      '(manual capture) is voided: the hold on the card is released and nothing is taken.',
    tag: TAG,
    auth: 'user',
    params: orderIdParams,
    responses: {
      200: { description: 'Cancelled or refunded.', body: cancelAnswerSchema },
      202: { description: 'Accepted; the payment side is still finishing.', body: cancelAnswerSchema },
    },
    problems: {
      404: 'No such order of yours.',
      409: 'Nothing to cancel (the payment failed), a dispute is open or lost, or it cannot be cancelled now.',
      503: 'The payment service is unavailable; try again (Retry-After).',
    },
  },
  {
    method: 'get',
    path: '/',
    operationId: 'listOrders',
    summary: 'Your orders, newest first',
    tag: TAG,
    auth: 'user',
    query: orderHistoryQuery,
    responses: {
      200: {
        description: 'One page; `nextCursor` is null on the last.',
        body: z.object({ orders: z.array(orderViewSchema), nextCursor: z.string().nullable() }),
      },
    },
    problems: { 400: 'Invalid query (or a cursor this API did not return).' },
  },
];

export const adminOrdersQuery = z.strictObject({
  orderId: z.uuid().optional(),
  customer: z
    .string()
    .max(254)
    .optional()
    .meta({ description: "The customer's user id, or their email address." }),
  status: z.enum(ORDER_STATUSES).optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created at or after.' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Created before.' }),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional().meta({ description: '`nextCursor` of the previous page.' }),
});
export const statsQuery = z.strictObject({ minutes: z.coerce.number().int().min(1).max(1440).default(60) });

export const adminOrderSchema = orderViewSchema.extend({ userId: z.uuid() });
const timelineSchema = z.object({
  order: adminOrderSchema,
  steps: z.array(
    z.object({ at: z.iso.datetime(), type: z.string(), status: z.string(), detail: z.looseObject({}) }),
  ),
  ledger: z
    .looseObject({})
    .nullable()
    .meta({ description: 'The payment ledger: the payment, its movements and disputes.' }),
  notifications: z.looseObject({}).nullable().meta({
    description: 'Emails sent (or dead-lettered) and webhook deliveries, from the notification service.',
  }),
  links: z.object({ temporal: z.url() }),
});

operations.push(
  {
    method: 'get',
    path: '/admin/orders',
    operationId: 'searchOrders',
    summary: 'Orders by id, customer, status and date, newest first',
    tag: 'Operator',
    auth: 'operator',
    scope: 'orders:read',
    query: adminOrdersQuery,
    responses: {
      200: {
        description: 'One page; `nextCursor` is null on the last.',
        body: z.object({ orders: z.array(adminOrderSchema), nextCursor: z.string().nullable() }),
      },
    },
    problems: { 400: 'Invalid query (or a cursor this API did not return).' },
  },
  {
    method: 'get',
    path: '/admin/orders/:orderId',
    operationId: 'orderTimeline',
    summary: 'An order and its story: each step, its money in the ledger, its emails and webhook deliveries',
    tag: 'Operator',
    auth: 'operator',
    scope: 'orders:read',
    params: orderIdParams,
    responses: { 200: { description: 'The order and its timeline.', body: timelineSchema } },
    problems: { 404: 'No such order.' },
  },
  {
    method: 'get',
    path: '/admin/stats/orders',
    operationId: 'orderStats',
    summary: 'Orders per minute by outcome (the console’s chart)',
    tag: 'Operator',
    auth: 'operator',
    scope: 'orders:read',
    query: statsQuery,
    responses: {
      200: {
        description: 'One entry per minute that had any, oldest first.',
        body: z.object({
          minutes: z.array(
            z.object({ minute: z.iso.datetime(), counts: z.record(z.string(), z.number().int()) }),
          ),
        }),
      },
    },
    problems: { 400: 'Invalid query.' },
  },
);

export const orderApi = openApiDocument({ title: 'Paystream orders', version: '1' }, operations);
