import { randomUUID } from 'node:crypto';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { Client as PgClient } from 'pg';
import { cfg, eventually, mailpit, uniqueEmail } from '../support';
import { E2E_PORTS, startE2EWithWebhooks, type Auth, type E2E, type OrderStatus } from './support';

/**
 * Capture later and disputes on the real stack: orders through the gateway, captures through the operator's
 * `npm run ops -- capture`, the bank played by localstripe (its dispute test card, and the test route that
 * decides a dispute), webhooks signed by localstripe to this set's gateway. What moved is read back from
 * localstripe and from the payment ledger; what the order says, through the public API.
 */
let e2e: E2E;
let payments: PgClient;
const stripe = createStripe(cfg);
const MERCHANT = uniqueEmail('merchant');
// Authorizations act at 18 s (a tenth before a 20 s lifetime), warned at 10 s; evidence reminders 5 s before.
const AUTHORIZATION = { PAYMENT_AUTHORIZATION_LIFETIME: '20', PAYMENT_AUTHORIZATION_WARNING: '8' };

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.moneyOperations, 60, {
    ...AUTHORIZATION,
    DISPUTE_EVIDENCE_WARNING: '5',
    MERCHANT_EMAIL: MERCHANT,
  });
  payments = new PgClient({ connectionString: cfg.PAYMENT_DATABASE_URL });
  await payments.connect();
}, 180_000);

afterAll(async () => {
  await payments?.end();
  await e2e?.stop();
});

const reaches = (orderId: string, auth: Auth, status: string) =>
  eventually(async () => {
    const s = (await e2e.statusOf(orderId, auth)) as OrderStatus & {
      capturedAmount?: number;
      capture?: string;
    };
    if (s.status !== status) throw new Error(`order ${orderId} is ${s.status}, not ${status}`);
    return s;
  }, 30_000);

const subjectsTo = (to: string, count: number) =>
  eventually(async () => {
    const subjects = (await mailpit.messagesTo(to)).map((m) => m.Subject);
    if (subjects.length < count) throw new Error(`${subjects.length} of ${count} emails`);
    return subjects;
  }, 30_000);

/** Waits until the merchant got an email whose subject matches. */
const merchantGot = (subject: RegExp) =>
  eventually(async () => {
    const subjects = (await mailpit.messagesTo(MERCHANT)).map((m) => m.Subject);
    if (!subjects.some((s) => subject.test(s)))
      throw new Error(`no ${String(subject)} among ${subjects.join(' | ')}`);
  }, 30_000);

/** The ledger's movements of an order, oldest first. */
const movementsOf = async (orderId: string) =>
  (
    await payments.query<{ kind: string; amount: number; stripe_object_id: string }>(
      `SELECT kind, amount::int AS amount, stripe_object_id FROM payment_movements WHERE order_id = $1 ORDER BY id`,
      [orderId],
    )
  ).rows.map((m) => [m.kind, m.amount]);

async function order(
  body: Record<string, unknown>,
  card: Record<string, unknown> = { paymentMethodId: 'pm_card_visa' },
) {
  const buyer = await e2e.customer(card);
  const created = await e2e.post('/orders/create', { currency: 'EUR', ...body }, buyer.auth);
  expect(created.status).toBe(201);
  return { ...buyer, orderId: created.body.orderId as string, created: created.body };
}

const capture = (orderId: string, ...args: string[]) => e2e.ops('capture', '--order', orderId, ...args);
const oneIntent = async (orderId: string): Promise<Stripe.PaymentIntent> => {
  const intents = await e2e.intentsFor(orderId);
  expect(intents).toHaveLength(1);
  return intents[0]!;
};

describe('authorize now, capture later', () => {
  it('holds the card, refuses a capture of more, captures part once: the rest is released, the order paid with it', async () => {
    const { orderId, auth, email, created } = await order({ amount: 5000, capture: 'manual' });
    expect(created).toMatchObject({ status: 'pending', capture: 'manual' });
    await reaches(orderId, auth, 'authorized');
    const held = await oneIntent(orderId);
    expect([held.status, held.amount_capturable, held.amount_received]).toEqual([
      'requires_capture',
      5000,
      0,
    ]);

    const tooMuch = await capture(orderId, '--amount', '6000');
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.err).toContain('A capture of 6000 is more than the 5000 eur authorized');
    const done = await capture(orderId, '--amount', '3500', '--request-id', 'ship-1');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.out)).toEqual({
      orderId,
      requestId: 'ship-1',
      status: 'succeeded',
      capturedAmount: 3500,
      releasedAmount: 1500,
    });
    // The same request again answers the same capture; another one is refused.
    expect(
      JSON.parse((await capture(orderId, '--amount', '3500', '--request-id', 'ship-1')).out),
    ).toMatchObject({
      capturedAmount: 3500,
    });
    const again = await capture(orderId, '--request-id', 'ship-2');
    expect(again.code).toBe(1);
    expect(again.err).toContain('captured already (3500 eur)');

    expect(await reaches(orderId, auth, 'paid')).toMatchObject({ capturedAmount: 3500, refundedAmount: 0 });
    const intent = await oneIntent(orderId);
    expect([intent.status, intent.amount_received]).toEqual(['succeeded', 3500]);
    expect(await movementsOf(orderId)).toEqual([
      ['authorized', 5000],
      ['captured', 3500],
      ['released', 1500],
    ]);
    expect((await subjectsTo(email, 2)).sort()).toEqual([
      'Payment authorized — €50.00',
      'Payment received — €35.00',
    ]);

    // Refunds count against what was taken: all of it is 3500, and the release is not a refund.
    const refund = await e2e.ops('refund', '--order', orderId);
    expect(JSON.parse(refund.out)).toMatchObject({ status: 'refunded', amount: 3500, refundedAmount: 3500 });
    expect(await reaches(orderId, auth, 'refunded')).toMatchObject({ refundedAmount: 3500 });
  });

  it("the customer's cancel voids the authorization: nothing is taken, and it cannot be captured after", async () => {
    const { orderId, auth, email } = await order({ amount: 2000, capture: 'manual' });
    await reaches(orderId, auth, 'authorized');
    expect(await e2e.post(`/orders/${orderId}/cancel`, undefined, auth)).toEqual({
      status: 200,
      body: { orderId, status: 'cancelled' },
    });
    await reaches(orderId, auth, 'cancelled');
    const intent = await oneIntent(orderId);
    expect([intent.status, intent.amount_received]).toEqual(['canceled', 0]);
    expect((await stripe.refunds.list({ payment_intent: intent.id })).data).toEqual([]);
    expect(await movementsOf(orderId)).toEqual([
      ['authorized', 2000],
      ['released', 2000],
    ]);
    const late = await capture(orderId);
    expect(late.code).toBe(1);
    expect(late.err).toContain('The authorization was released');
    expect((await subjectsTo(email, 2)).sort()).toEqual([
      'Order cancelled — €20.00',
      'Payment authorized — €20.00',
    ]);
  });

  it('an order charged at once has nothing to capture, and nothing moves', async () => {
    const { orderId, auth } = await order({ amount: 1500 });
    await reaches(orderId, auth, 'paid');
    const refused = await capture(orderId);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('charged at once (automatic capture)');
    expect((await oneIntent(orderId)).amount_received).toBe(1500);
    expect(await movementsOf(orderId)).toEqual([['charged', 1500]]);
  });

  it('an authorization nobody captures is voided at the end of its lifetime, after a warning to the merchant', async () => {
    const { orderId, auth } = await order({ amount: 4100, capture: 'manual' });
    await reaches(orderId, auth, 'authorized');
    await reaches(orderId, auth, 'cancelled');
    expect((await oneIntent(orderId)).status).toBe('canceled');
    await merchantGot(new RegExp(`^Authorization of €41.00 lapses soon — order ${orderId}$`));
    expect(await movementsOf(orderId)).toEqual([
      ['authorized', 4100],
      ['released', 4100],
    ]);
  }, 60_000);
});

describe('disputes', () => {
  const DISPUTE_CARD = { card: { number: '4000000000000259', expMonth: 12, expYear: 2034, cvc: '123' } };
  const bank = (disputeId: string, action: 'close' | 'due', fields: Record<string, string>) =>
    fetch(`${cfg.STRIPE_API_BASE}/_test/disputes/${disputeId}/${action}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${cfg.STRIPE_SECRET_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields).toString(),
    }).then((r) => expect(r.status).toBe(200));
  const disputeOf = async (orderId: string) => {
    const intent = await oneIntent(orderId);
    const [dispute] = (await stripe.disputes.list({ payment_intent: intent.id })).data;
    expect(dispute).toBeDefined();
    return dispute!;
  };

  it('a disputed charge refuses refunds (nothing moves), reminds the merchant, and is refundable again once won', async () => {
    const { orderId, auth } = await order({ amount: 2600 }, DISPUTE_CARD);
    await reaches(orderId, auth, 'disputed');
    const dispute = await disputeOf(orderId);
    expect([dispute.status, dispute.reason, dispute.amount]).toEqual(['needs_response', 'fraudulent', 2600]);

    const cancel = await e2e.post(`/orders/${orderId}/cancel`, undefined, auth);
    expect(cancel.status).toBe(409);
    expect(cancel.body.detail).toMatch(/dispute is open/);
    const operator = await e2e.ops('refund', '--order', orderId);
    expect(operator.code).toBe(1);
    expect(operator.err).toContain('A dispute is open on this payment');
    expect((await stripe.refunds.list({ payment_intent: dispute.payment_intent as string })).data).toEqual(
      [],
    );

    // The evidence falls due in 8 s: the reminder comes 5 s before.
    await bank(dispute.id, 'due', { seconds: '8' });
    await merchantGot(
      new RegExp(`^Dispute opened: €26.00 on order ${orderId} — evidence due \\d{4}-\\d\\d-\\d\\d$`),
    );
    await merchantGot(new RegExp(`^Evidence due .*: dispute of €26.00 on order ${orderId}$`));

    await bank(dispute.id, 'close', { status: 'won' });
    await reaches(orderId, auth, 'dispute_won');
    expect(await movementsOf(orderId)).toEqual([
      ['charged', 2600],
      ['dispute_withdrawn', 2600],
      ['dispute_reinstated', 2600],
    ]);
    const [row] = (
      await payments.query<{ status: string; closed: boolean }>(
        `SELECT status, closed_at IS NOT NULL AS closed FROM disputes WHERE dispute_id = $1`,
        [dispute.id],
      )
    ).rows;
    expect(row).toEqual({ status: 'won', closed: true });
    const refund = await e2e.ops('refund', '--order', orderId, '--amount', '600');
    expect(JSON.parse(refund.out)).toMatchObject({ status: 'partially_refunded', refundedAmount: 600 });
    await reaches(orderId, auth, 'partially_refunded');
  });

  it('a dispute lost is final: the order cannot be cancelled or refunded', async () => {
    const { orderId, auth } = await order({ amount: 1900 }, DISPUTE_CARD);
    await reaches(orderId, auth, 'disputed');
    await bank((await disputeOf(orderId)).id, 'close', { status: 'lost' });
    await reaches(orderId, auth, 'dispute_lost');
    const cancel = await e2e.post(`/orders/${orderId}/cancel`, undefined, auth);
    expect(cancel.status).toBe(409);
    expect(cancel.body.detail).toMatch(/took this payment back/);
    expect(await movementsOf(orderId)).toEqual([
      ['charged', 1900],
      ['dispute_withdrawn', 1900],
    ]);
    await merchantGot(new RegExp(`^Dispute lost: €19.00 on order ${orderId}$`));
  });

  it('a capture or refund of an order that does not exist is refused, naming why', async () => {
    const ghost = randomUUID();
    expect((await capture(ghost)).err).toContain(`No payment was made for order ${ghost}`);
  });
});
