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
];

export const paymentApi = openApiDocument({ title: 'Paystream Stripe webhooks', version: '1' }, operations);
