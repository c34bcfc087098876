import Stripe from 'stripe';
import { STRIPE_API_VERSION } from '@paystream/common/stripe';
import { cfg } from '../support';

function stripeAt(port: number): Stripe {
  return new Stripe('sk_test_paystreaminfra', {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 0,
  });
}

describe('Stripe API through the official SDK', () => {
  it('stripe-mock accepts a PaymentIntent that conforms to the Stripe API', async () => {
    const stripe = stripeAt(cfg.STRIPE_MOCK_PORT);
    const intent = await stripe.paymentIntents.create(
      { amount: 1999, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, off_session: true },
      { idempotencyKey: 'order-infra-test' },
    );
    expect(intent.object).toBe('payment_intent');
    expect(intent.id).toMatch(/^pi_/);
    // stripe-mock validates the request against the OpenAPI spec: an unknown parameter is rejected.
    await expect(
      stripe.paymentIntents.create({
        amount: 1,
        currency: 'usd',
        not_a_param: 1,
      } as Stripe.PaymentIntentCreateParams),
    ).rejects.toThrow(/additional properties are not allowed/);
  });

  it('localstripe keeps state: a charge can be read back, a declining card is declined', async () => {
    const stripe = stripeAt(cfg.LOCALSTRIPE_PORT);
    const customer = await stripe.customers.create({ email: 'infra@example.test' });
    const pm = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
    const intent = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'eur',
      customer: customer.id,
      payment_method: pm.id,
      confirm: true,
      off_session: true,
    });
    expect(intent.status).toBe('succeeded');
    const readBack = await stripe.paymentIntents.retrieve(intent.id);
    expect(readBack.amount).toBe(2500);
    expect(readBack.status).toBe('succeeded');

    // localstripe answers declines 402 with code card_declined (real Stripe also types them StripeCardError).
    // Stripe's documented test cards: ...0002 is declined when attached, ...0341 attaches but declines charges.
    const declinedOnAttach = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000000000000002', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    await expect(
      stripe.paymentMethods.attach(declinedOnAttach.id, { customer: customer.id }),
    ).rejects.toMatchObject({
      statusCode: 402,
      code: 'card_declined',
    });
    const declinedOnCharge = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000000000000341', exp_month: 12, exp_year: 2034, cvc: '123' },
    });
    await stripe.paymentMethods.attach(declinedOnCharge.id, { customer: customer.id });
    await expect(
      stripe.paymentIntents.create({
        amount: 2500,
        currency: 'eur',
        customer: customer.id,
        payment_method: declinedOnCharge.id,
        confirm: true,
        off_session: true,
      }),
    ).rejects.toMatchObject({ statusCode: 402, code: 'card_declined' });
  });
});
