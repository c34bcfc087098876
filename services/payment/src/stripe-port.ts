import { type Stripe } from '@paystream/common/stripe';

/**
 * What the payment activities ask of Stripe, and nothing more: each call that moves or may move money
 * takes the idempotency key its caller chose, so a test (or a reader) sees every key in one place. The
 * objects are Stripe's own types. `stripePort` is the real one over the SDK; unit tests give a recording
 * one (services/payment/test/unit), the integration tests the SDK against localstripe.
 */
export interface StripePort {
  createIntent(
    params: Stripe.PaymentIntentCreateParams,
    idempotencyKey: string,
  ): Promise<Stripe.PaymentIntent>;
  retrieveIntent(id: string): Promise<Stripe.PaymentIntent>;
  confirmIntent(id: string, idempotencyKey: string): Promise<Stripe.PaymentIntent>;
  cancelIntent(id: string, idempotencyKey: string): Promise<Stripe.PaymentIntent>;
  /** Captures an authorized intent: `amount` of it, or all that is capturable. */
  captureIntent(
    id: string,
    amount: number | undefined,
    idempotencyKey: string,
  ): Promise<Stripe.PaymentIntent>;
  /** Every refund of the intent, whatever its status, paged through. */
  refundsOf(intentId: string): AsyncIterable<Stripe.Refund>;
  createRefund(params: Stripe.RefundCreateParams, idempotencyKey: string): Promise<Stripe.Refund>;
  /** Every dispute of the intent's charge. */
  disputesOf(intentId: string): AsyncIterable<Stripe.Dispute>;
  retrieveDispute(id: string): Promise<Stripe.Dispute>;
}

export function stripePort(stripe: Stripe): StripePort {
  return {
    createIntent: (params, idempotencyKey) => stripe.paymentIntents.create(params, { idempotencyKey }),
    retrieveIntent: (id) => stripe.paymentIntents.retrieve(id),
    // On-session: the customer has just placed this order. With off_session Stripe declines a card that
    // needs 3-D Secure (authentication_required) instead of asking for it (requires_action).
    confirmIntent: (id, idempotencyKey) => stripe.paymentIntents.confirm(id, {}, { idempotencyKey }),
    cancelIntent: (id, idempotencyKey) => stripe.paymentIntents.cancel(id, {}, { idempotencyKey }),
    captureIntent: (id, amount, idempotencyKey) =>
      stripe.paymentIntents.capture(id, amount === undefined ? {} : { amount_to_capture: amount }, {
        idempotencyKey,
      }),
    // A payment has a handful of refunds; the list is paged anyway, so none is ever missed.
    refundsOf: (intentId) => stripe.refunds.list({ payment_intent: intentId, limit: 100 }),
    createRefund: (params, idempotencyKey) => stripe.refunds.create(params, { idempotencyKey }),
    disputesOf: (intentId) => stripe.disputes.list({ payment_intent: intentId, limit: 100 }),
    retrieveDispute: (id) => stripe.disputes.retrieve(id),
  };
}
