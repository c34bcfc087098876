import { STRIPE_WEBHOOK_EVENTS, TOPICS } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { HttpProblem } from '@paystream/common/problem';
import { type Stripe } from '@paystream/common/stripe';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  DISPUTE_WORKFLOW,
  disputeStartOptions,
  type disputeWorkflow,
  paymentWorkflowId,
  stripeEventSignal,
  type refundsWorkflow,
  type StripeHint,
  REFUNDS_WORKFLOW,
  refundsStartOptions,
} from '@paystream/workflows';
import express, { Router } from 'express';
import type { Producer } from 'kafkajs';
import { paymentMetrics } from './metrics';
import { FINAL_STATUSES, type Ledger } from './ledger/ledger';

export interface WebhookDeps {
  stripe: Stripe;
  /** The endpoint's signing secret (`whsec_…`). */
  secret: string;
  /** How old a signed timestamp may be: an older delivery is a replay and refused. */
  toleranceSeconds: number;
  client: Client;
  producer: Producer;
  /** DISPUTE_EVIDENCE_WARNING, for a dispute workflow a webhook starts. */
  evidenceWarningSeconds: number;
  /** Whether a payment already ended with this intent: then its workflow is not woken (see below). */
  ledger?: Pick<Ledger, 'payment'>;
}

/**
 * The order a Stripe object belongs to: Paystream puts `orderId` in every PaymentIntent's metadata. A
 * charge's or a dispute's comes from its PaymentIntent (Stripe copies metadata onto charges; localstripe
 * does not; disputes have none).
 */
async function orderOf(
  stripe: Stripe,
  event: Stripe.Event,
): Promise<{ orderId?: string; intentId?: string }> {
  const object = event.data.object as {
    object?: string;
    id?: string;
    metadata?: Record<string, string> | null;
    payment_intent?: string | { id: string } | null;
  };
  if (object.object !== 'charge' && object.object !== 'dispute')
    return { orderId: object.metadata?.orderId || undefined, intentId: object.id };
  const intentId =
    typeof object.payment_intent === 'string' ? object.payment_intent : object.payment_intent?.id;
  const orderId =
    object.metadata?.orderId ||
    (intentId ? (await stripe.paymentIntents.retrieve(intentId)).metadata.orderId : undefined);
  return { orderId: orderId || undefined, intentId };
}

/** Whether the ledger holds the order's payment as final with `intentId` (another intent is news: signal it). */
async function settledWith(deps: WebhookDeps, orderId: string, intentId: string): Promise<boolean> {
  const payment = await deps.ledger?.payment(orderId);
  return !!payment && payment.paymentIntentId === intentId && FINAL_STATUSES.includes(payment.status);
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
      paymentMetrics.stripeWebhooks.inc({ type: 'unverified', result: 'bad-signature' });
      throw new HttpProblem(
        400,
        'invalid-signature',
        'The Stripe-Signature header does not match this payload',
      );
    }
    const { orderId, intentId } = handled.has(event.type) ? await orderOf(deps.stripe, event) : {};
    const log = { stripeEventId: event.id, type: event.type, orderId };
    if (!orderId || !intentId) {
      paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'ignored' });
      req.log.info(log, 'stripe event ignored');
      res.json({ received: true });
      return;
    }
    const hint: StripeHint = { eventId: event.id, type: event.type };
    if (event.type.startsWith('charge.dispute.')) {
      // A dispute (chargeback): its own workflow, started by the first word of it, re-reads it from Stripe.
      const disputeId = (event.data.object as { id: string }).id;
      await deps.client.workflow.signalWithStart<typeof disputeWorkflow, [StripeHint]>(DISPUTE_WORKFLOW, {
        ...disputeStartOptions({ orderId, disputeId, evidenceWarningSeconds: deps.evidenceWarningSeconds }),
        signal: stripeEventSignal,
        signalArgs: [hint],
      });
      paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'signalled' });
      req.log.info({ ...log, disputeId }, 'stripe event passed to the dispute workflow');
    } else if (event.type === 'charge.refunded') {
      // A refund, perhaps made outside Paystream (Stripe's dashboard): the order's refunds workflow,
      // started if none runs, re-reads the refunds from Stripe and announces the new ones.
      await deps.client.workflow.signalWithStart<typeof refundsWorkflow, [StripeHint]>(REFUNDS_WORKFLOW, {
        ...refundsStartOptions(orderId, intentId),
        signal: stripeEventSignal,
        signalArgs: [hint],
      });
      paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'signalled' });
      req.log.info(log, 'stripe event passed to the refunds workflow');
    } else if (await settledWith(deps, orderId, intentId)) {
      // The payment already ended with this very intent (the confirm that made it learned the outcome
      // itself): a signal would only wake a finished or finishing workflow for one more task. Recorded below.
      paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'settled' });
      req.log.info(log, 'stripe event for a payment the ledger has settled with that intent');
    } else
      try {
        await deps.client.workflow.getHandle(paymentWorkflowId(orderId)).signal(stripeEventSignal, hint);
        paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'signalled' });
        req.log.info(log, 'stripe event passed to the payment workflow');
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        paymentMetrics.stripeWebhooks.inc({ type: event.type, result: 'no-workflow' });
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
