import {
  HttpProblem,
  metrics,
  publishJson,
  STRIPE_WEBHOOK_EVENTS,
  TOPICS,
  type Stripe,
} from '@paystream/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { paymentWorkflowId, stripeEventSignal, type StripeHint } from '@paystream/workflows';
import express, { Router } from 'express';
import type { Producer } from 'kafkajs';

export interface WebhookDeps {
  stripe: Stripe;
  /** The endpoint's signing secret (`whsec_…`). */
  secret: string;
  /** How old a signed timestamp may be: an older delivery is a replay and refused. */
  toleranceSeconds: number;
  client: Client;
  producer: Producer;
}

/** The order a Stripe object belongs to: Paystream puts `orderId` in every PaymentIntent's metadata. */
function orderIdOf(event: Stripe.Event): string | undefined {
  const object = event.data.object as { metadata?: Record<string, string> | null };
  return object.metadata?.orderId || undefined;
}

/**
 * POST /webhooks/stripe (public through the gateway, no JWT). The signature is checked on the raw body
 * before anything else; a bad or stale one is a 400 and nothing happens. A verified event is a hint,
 * not the truth: the order's workflow gets a signal and re-reads the PaymentIntent from Stripe. The
 * answer is 2xx only once Temporal accepted the signal, so Stripe redelivers otherwise; a repeated
 * event id has no second effect (the workflow ignores ids it has seen). Events for orders without a
 * running workflow are acknowledged, logged and counted.
 */
export function stripeWebhookRoutes(deps: WebhookDeps): Router {
  const router = Router();
  const handled = new Set<string>(STRIPE_WEBHOOK_EVENTS);
  router.post('/webhooks/stripe', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    let event: Stripe.Event;
    try {
      event = deps.stripe.webhooks.constructEvent(
        req.body as Buffer,
        req.get('stripe-signature') ?? '',
        deps.secret,
        deps.toleranceSeconds,
      );
    } catch {
      metrics.stripeWebhooks.inc({ type: 'unverified', result: 'bad-signature' });
      throw new HttpProblem(
        400,
        'invalid-signature',
        'The Stripe-Signature header does not match this payload',
      );
    }
    const orderId = orderIdOf(event);
    const log = { stripeEventId: event.id, type: event.type, orderId };
    if (!handled.has(event.type) || !orderId) {
      metrics.stripeWebhooks.inc({ type: event.type, result: 'ignored' });
      req.log.info(log, 'stripe event ignored');
      res.json({ received: true });
      return;
    }
    const hint: StripeHint = { eventId: event.id, type: event.type };
    try {
      await deps.client.workflow.getHandle(paymentWorkflowId(orderId)).signal(stripeEventSignal, hint);
      metrics.stripeWebhooks.inc({ type: event.type, result: 'signalled' });
      req.log.info(log, 'stripe event passed to the payment workflow');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      metrics.stripeWebhooks.inc({ type: event.type, result: 'no-workflow' });
      req.log.info(log, 'stripe event for an order with no running payment workflow');
    }
    // After the signal, so a Kafka outage cannot hold up a payment; a failure here is a 5xx, Stripe
    // redelivers, and the workflow ignores the event id it has already seen.
    await publishJson(deps.producer, TOPICS.stripeEvents, orderId, {
      ...hint,
      orderId,
      created: event.created,
    });
    res.json({ received: true });
  });
  return router;
}
