import { formatAmount, STRIPE_CURRENCIES } from '@paystream/common/currencies';
import { type PaymentEvent } from '@paystream/common/events';
import { audienceOf, renderPaymentEmail } from '../../src/email/render';

const base: PaymentEvent = {
  eventId: '6a1c2f7e-2a5b-4d0e-9a55-0b7f3f1c9e01',
  orderId: '0b9d8c1e-7f6a-4e3b-8c2d-1a0f9e8d7c6b',
  userId: '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170',
  status: 'succeeded',
  amount: 2599,
  currency: 'eur',
  occurredAt: '2025-01-01T12:00:00.000Z',
};

describe('renderPaymentEmail', () => {
  it('renders a receipt for a successful payment', () => {
    const email = renderPaymentEmail(base);
    expect(email.subject).toBe('Payment received — €25.99');
    expect(email.text).toBe(`Thank you! We received your payment of €25.99 for order ${base.orderId}.\n`);
    expect(email.html).toBe(
      `<p>Thank you! We received your payment of <strong>€25.99</strong> for order <code>${base.orderId}</code>.</p>`,
    );
  });

  it('shows every currency Stripe can charge as the shared formatAmount renders it', () => {
    for (const currency of STRIPE_CURRENCIES) {
      const email = renderPaymentEmail({ ...base, amount: 123_400, currency });
      const amount = formatAmount(123_400, currency);
      expect([currency, email.subject]).toEqual([currency, `Payment received — ${amount}`]);
    }
  });

  it('reads each amount in its currency’s API unit: yen whole, dinars in thousandths, krónur and forints in hundredths', () => {
    expect(renderPaymentEmail({ ...base, amount: 5000, currency: 'jpy' }).subject).toBe(
      'Payment received — ¥5,000',
    );
    expect(renderPaymentEmail({ ...base, amount: 1230, currency: 'kwd' }).subject).toMatch(/— KWD\s1\.230$/);
    expect(renderPaymentEmail({ ...base, amount: 500, currency: 'isk' }).subject).toMatch(/— ISK\s5$/);
    expect(renderPaymentEmail({ ...base, amount: 17_500, currency: 'huf' }).subject).toMatch(
      /— HUF\s175\.00$/,
    );
  });

  it('renders a failure with the reason, in the order’s currency', () => {
    const email = renderPaymentEmail({
      ...base,
      status: 'failed',
      amount: 1500,
      currency: 'jpy',
      failureReason: 'Your card was declined',
    });
    expect(email.subject).toBe('Payment failed — ¥1,500');
    expect(email.text).toContain(`Your payment of ¥1,500 for order ${base.orderId} did not go through`);
    expect(email.text).toContain('Your card was declined.\nPlease check your card and try again.\n');
    expect(email.html).toContain('did not go through: Your card was declined.</p>');
  });

  it('falls back to a generic reason when the event has none', () => {
    const email = renderPaymentEmail({ ...base, status: 'failed' });
    expect(email.text).toContain('did not go through: The payment could not be completed.');
    expect(email.html).toContain('did not go through: The payment could not be completed.</p>');
  });

  it('escapes the failure reason in the HTML part', () => {
    const reason = `<script>alert("pwn")</script> & 'friends'`;
    const email = renderPaymentEmail({ ...base, status: 'failed', failureReason: reason });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain(
      'did not go through: &lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt; &amp; &#39;friends&#39;.</p>',
    );
    // The text part is plain text: the reason is kept as it is.
    expect(email.text).toContain(reason);
  });

  it('asks for 3-D Secure with Stripe’s link when there is one, and says what happens otherwise', () => {
    const nextAction = {
      type: 'redirect_to_url',
      clientSecret: 'pi_1_secret_2',
      redirectUrl: 'https://hooks.stripe.test/3ds?a=1&b=2',
    };
    const email = renderPaymentEmail({
      ...base,
      status: 'requires_action',
      amount: 2599,
      currency: 'eur',
      nextAction,
    });
    expect(email.subject).toBe('Action needed — confirm your payment of €25.99');
    expect(email.text).toContain(
      `Your bank asks you to confirm the payment of €25.99 for order ${base.orderId}.`,
    );
    expect(email.text).toContain('Confirm it here: https://hooks.stripe.test/3ds?a=1&b=2\n');
    expect(email.html).toContain(
      '<a href="https://hooks.stripe.test/3ds?a=1&amp;b=2">Confirm the payment</a>',
    );
    expect(email.text).not.toContain('pi_1_secret_2'); // the client secret belongs to Stripe.js, not to email
    const inApp = renderPaymentEmail({
      ...base,
      status: 'requires_action',
      nextAction: { type: 'use_stripe_sdk', clientSecret: 'pi_1_secret_2' },
    });
    expect(inApp.text).toContain('Open your order in the app to confirm it.');
    expect(inApp.text).toContain('If you do not, the order is cancelled and nothing is charged.');
  });

  it('tells the customer a cancelled order charged nothing', () => {
    const email = renderPaymentEmail({ ...base, status: 'cancelled' });
    expect(email.subject).toBe('Order cancelled — €25.99');
    expect(email.text).toBe(
      `Your order ${base.orderId} of €25.99 is cancelled. Nothing was charged, and any hold on your card is released.\n`,
    );
  });

  it('names each refund and the running total, and says when the payment is refunded in full', () => {
    const part = renderPaymentEmail({
      ...base,
      status: 'partially_refunded',
      refundAmount: 1000,
      refundedAmount: 1000,
    });
    expect(part.subject).toBe(`Refund of €10.00 — order ${base.orderId}`);
    expect(part.text).toContain('We refunded €10.00 of your payment of €25.99');
    expect(part.text).toContain('(€10.00 refunded in all)');
    expect(part.text).not.toContain('in full');
    const rest = renderPaymentEmail({
      ...base,
      status: 'refunded',
      refundAmount: 1599,
      refundedAmount: 2599,
    });
    expect(rest.subject).toBe(`Refund of €15.99 — order ${base.orderId}`);
    expect(rest.text).toContain('(€25.99 refunded in all). Your payment is now refunded in full.');
    expect(rest.html).toContain('<strong>€15.99</strong>');
  });

  it('tells the customer what is held on an authorization, and what was taken by a partial capture', () => {
    const held = renderPaymentEmail({ ...base, status: 'authorized' });
    expect(held.subject).toBe('Payment authorized — €25.99');
    expect(held.text).toContain('€25.99 is held on your card');
    expect(held.text).toContain('nothing has been taken yet');
    const partial = renderPaymentEmail({ ...base, capturedAmount: 1999 });
    expect(partial.subject).toBe('Payment received — €19.99');
    expect(partial.text).toContain('We charged €19.99 of the €25.99 held on your card');
    // A capture of all of it reads as any payment.
    expect(renderPaymentEmail({ ...base, capturedAmount: 2599 }).subject).toBe('Payment received — €25.99');
  });

  it('sends the merchant what they must act on, each with its deadline, and never the customer', () => {
    const dispute = { id: 'dp_1', status: 'needs_response', reason: 'fraudulent', amount: 2599 };
    const due = '2026-12-20T23:59:59.000Z';
    const cases: [PaymentEvent, string][] = [
      [
        { ...base, status: 'authorization_expiring', authorizationExpiresAt: '2026-12-13T09:30:00.000Z' },
        `Authorization of €25.99 lapses soon — order ${base.orderId}`,
      ],
      [
        { ...base, status: 'disputed', dispute: { ...dispute, evidenceDueBy: due } },
        `Dispute opened: €25.99 on order ${base.orderId} — evidence due 2026-12-20`,
      ],
      [
        { ...base, status: 'dispute_evidence_due', dispute: { ...dispute, evidenceDueBy: due } },
        `Evidence due 2026-12-20: dispute of €25.99 on order ${base.orderId}`,
      ],
      [{ ...base, status: 'dispute_won', dispute }, `Dispute won: €25.99 on order ${base.orderId}`],
      [{ ...base, status: 'dispute_lost', dispute }, `Dispute lost: €25.99 on order ${base.orderId}`],
    ];
    for (const [event, subject] of cases) {
      expect(audienceOf(event.status)).toBe('merchant');
      expect(renderPaymentEmail(event).subject).toBe(subject);
    }
    expect(renderPaymentEmail(cases[0]![0]).text).toContain('lapses at 2026-12-13 09:30 UTC');
    expect(renderPaymentEmail(cases[1]![0]).text).toContain('refunds of this order are refused');
    for (const status of ['succeeded', 'authorized', 'failed', 'cancelled', 'refunded'] as const)
      expect(audienceOf(status)).toBe('customer');
  });

  it('escapes what Stripe says about a dispute', () => {
    const email = renderPaymentEmail({
      ...base,
      status: 'dispute_lost',
      dispute: { id: 'dp_<b>', status: 'lost', reason: '<script>x</script>', amount: 100 },
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;');
  });
});
