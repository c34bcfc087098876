import { createStripe, type Stripe } from '@paystream/common/stripe';
import { cfg, eventually, mailpit } from '../support';
import {
  awaitingAuthentication,
  E2E_PORTS,
  startE2EWithWebhooks,
  type Auth,
  type E2E,
  type OrderStatus,
} from './support';

/**
 * Cancel and refund on the real stack: the customer's POST /orders/:id/cancel through the gateway, the
 * operator's `npm run ops -- refund`, and a refund made in "Stripe's dashboard" (straight to
 * localstripe, which signs and sends charge.refunded to this set's gateway). Money is read back from
 * localstripe: its refunds are the truth the order must agree with.
 */
let e2e: E2E;
const stripe = createStripe(cfg);

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.cancelAndRefund, 60);
}, 180_000);

afterAll(() => e2e?.stop());

const cancel = (orderId: string, auth: Auth) => e2e.post(`/orders/${orderId}/cancel`, undefined, auth);

/** The order once it reaches `status` (and, when given, this refunded amount). */
const reaches = (orderId: string, auth: Auth, status: string, refundedAmount?: number) =>
  eventually(async () => {
    const s: OrderStatus = await e2e.statusOf(orderId, auth);
    if (s.status !== status || (refundedAmount !== undefined && s.refundedAmount !== refundedAmount))
      throw new Error(`order ${orderId} is ${s.status} (${s.refundedAmount} refunded)`);
    return s;
  }, 20_000);

/** The order's one PaymentIntent, its succeeded charges and its refunds, as localstripe holds them. */
async function moneyOf(orderId: string) {
  const intents = await e2e.intentsFor(orderId);
  expect(intents.length).toBeLessThanOrEqual(1);
  const intent = intents[0];
  if (!intent) return { intent, charged: 0, refunds: [] as Stripe.Refund[] };
  const charged = intent.status === 'succeeded' ? intent.amount : 0;
  // Never charged, nothing to list (localstripe cannot list the refunds of an intent without a charge).
  const refunds = intent.latest_charge
    ? (await stripe.refunds.list({ payment_intent: intent.id, limit: 100 })).data
    : [];
  return { intent, charged, refunds };
}
const sum = (refunds: Stripe.Refund[]) => refunds.reduce((s, r) => s + r.amount, 0);

/** Subjects of the emails `to` received, once there are `count` of them. */
const subjectsTo = (to: string, count: number) =>
  eventually(async () => {
    const subjects = (await mailpit.messagesTo(to)).map((m) => m.Subject);
    if (subjects.length < count) throw new Error(`${subjects.length} of ${count} emails`);
    return subjects;
  }, 20_000);

/** `npm run ops -- refund …` as an operator runs it: exit code, and the JSON line or the error line. */
const opsRefund = (...args: string[]) => e2e.ops('refund', ...args);

describe('the customer cancels', () => {
  it('before the charge (waiting for 3-D Secure): the intent is cancelled, nothing is charged', async () => {
    const { orderId, auth, email } = await awaitingAuthentication(e2e);
    const first = await cancel(orderId, auth);
    expect(first).toEqual({ status: 200, body: { orderId, status: 'cancelled' } });
    await reaches(orderId, auth, 'cancelled');
    const { intent, charged, refunds } = await moneyOf(orderId);
    expect(intent?.status).toBe('canceled');
    expect(charged).toBe(0);
    expect(refunds).toEqual([]);
    expect(await subjectsTo(email, 2)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Order cancelled/)]),
    );
    // Again: the same outcome, nothing more happens.
    expect(await cancel(orderId, auth)).toEqual({
      status: 200,
      body: { orderId, status: 'cancelled', refundedAmount: 0 },
    });
  });

  it('after the charge: refunded in full, once, however often and however concurrently it is asked', async () => {
    const { orderId, auth, email } = await e2e.paidOrder();
    const answers = await Promise.all([cancel(orderId, auth), cancel(orderId, auth), cancel(orderId, auth)]);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ orderId, status: 'refunded', refundedAmount: 2599 });
    }
    await reaches(orderId, auth, 'refunded', 2599);
    expect((await cancel(orderId, auth)).body).toMatchObject({ status: 'refunded', refundedAmount: 2599 });
    const { charged, refunds } = await moneyOf(orderId);
    expect(charged).toBe(2599);
    expect(refunds.map((r) => r.amount)).toEqual([2599]);
    const charge = await stripe.charges.retrieve(refunds[0]!.charge as string);
    expect(charge.amount_refunded).toBe(2599);
    const subjects = await subjectsTo(email, 2);
    expect(subjects.filter((s) => s.startsWith('Refund of'))).toHaveLength(1);
    // The refund is in Temporal, next to the payment, found by the order id as the Web UI finds it.
    const found: string[] = [];
    for await (const w of e2e.client.workflow.list({ query: `OrderId = '${orderId}'` }))
      found.push(w.workflowId);
    expect(found).toEqual(expect.arrayContaining([`payment-${orderId}`, `refunds-${orderId}`]));
  });

  it('right after ordering: whichever wins the race, the customer ends up charged nothing', async () => {
    const buyer = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const created = await e2e.post('/orders/create', { amount: 1234, currency: 'EUR' }, buyer.auth);
    const orderId = created.body.orderId as string;
    const answer = await cancel(orderId, buyer.auth);
    expect(answer.status).toBe(200);
    expect(['cancelled', 'refunded']).toContain(answer.body.status);
    const final = await reaches(orderId, buyer.auth, answer.body.status as string);
    const { charged, refunds } = await moneyOf(orderId);
    expect(charged - sum(refunds)).toBe(0);
    expect(refunds.length).toBeLessThanOrEqual(1);
    expect(final.refundedAmount).toBe(sum(refunds));
  });

  it('is refused for a failed order (409), and is "not found" for anyone but the owner', async () => {
    const declined = await e2e.customer({
      card: { number: '4000000000000341', expMonth: 12, expYear: 2034, cvc: '123' },
    });
    const created = await e2e.post('/orders/create', { amount: 500, currency: 'EUR' }, declined.auth);
    const orderId = created.body.orderId as string;
    expect((await e2e.finalStatus(orderId, declined.auth)).status).toBe('failed');
    const refused = await cancel(orderId, declined.auth);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/failed/);

    const other = await e2e.customer();
    expect((await cancel(orderId, other.auth)).status).toBe(404);
    expect((await cancel('not-a-uuid', other.auth)).status).toBe(404);
  });
});

describe('the internal cancel route (service token)', () => {
  it("refuses to refund an intent the ledger did not record for that order: nobody's charge is refunded under another order", async () => {
    const victim = await e2e.paidOrder();
    const thief = await e2e.paidOrder();
    const [victimIntent] = await e2e.intentsFor(victim.orderId);
    const [thiefIntent] = await e2e.intentsFor(thief.orderId);
    const res = await fetch(`${e2e.services.url('payment')}/internal/orders/${thief.orderId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-service-token': cfg.SERVICE_TOKEN },
      body: JSON.stringify({
        userId: thief.userId,
        amount: 2599,
        currency: 'eur',
        createdAt: new Date().toISOString(),
        status: 'paid',
        paymentIntentId: victimIntent!.id, // another order's charge
      }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { detail: string }).detail).toBe(
      `PaymentIntent ${victimIntent!.id} did not pay order ${thief.orderId}`,
    );
    for (const intent of [victimIntent!, thiefIntent!])
      expect((await stripe.refunds.list({ payment_intent: intent.id })).data).toEqual([]);
  });
});

describe('refunds', () => {
  it('an operator refunds in parts; an over-refund is refused and changes nothing; a retried request is the same refund', async () => {
    const { orderId, auth, email } = await e2e.paidOrder();
    const first = await opsRefund(
      '--order',
      orderId,
      '--amount',
      '1000',
      '--reason',
      'damaged box',
      '--request-id',
      'r1',
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({
      status: 'partially_refunded',
      amount: 1000,
      refundedAmount: 1000,
    });
    await reaches(orderId, auth, 'partially_refunded', 1000);

    const again = await opsRefund('--order', orderId, '--amount', '1000', '--request-id', 'r1');
    expect(JSON.parse(again.out)).toMatchObject({
      refundId: (JSON.parse(first.out) as { refundId: string }).refundId,
      refundedAmount: 1000,
    });

    expect((await opsRefund('--order', orderId, '--amount', '1500')).code).toBe(0);
    await reaches(orderId, auth, 'partially_refunded', 2500);

    const over = await opsRefund('--order', orderId, '--amount', '100');
    expect(over.code).toBe(1);
    expect(over.err).toMatch(/more than the 99 left/);

    const { refunds } = await moneyOf(orderId);
    expect(refunds.map((r) => r.amount).sort()).toEqual([1000, 1500]);
    expect(refunds.find((r) => r.amount === 1000)?.metadata).toMatchObject({ reason: 'damaged box' });
    expect((await e2e.statusOf(orderId, auth)).refundedAmount).toBe(sum(refunds));
    const subjects = await subjectsTo(email, 3);
    expect(subjects.filter((s) => s.startsWith('Refund of'))).toHaveLength(2);

    // What is left, by default; then nothing is.
    expect(JSON.parse((await opsRefund('--order', orderId)).out)).toMatchObject({
      status: 'refunded',
      amount: 99,
    });
    await reaches(orderId, auth, 'refunded', 2599);
    expect((await opsRefund('--order', orderId)).err).toMatch(/already refunded in full/);
  });

  it('of an order that was never paid, or with a malformed amount, is refused before anything moves', async () => {
    const { orderId } = await awaitingAuthentication(e2e);
    expect((await opsRefund('--order', orderId)).err).toMatch(/not finished/);
    expect((await opsRefund('--order', orderId, '--amount', '-5')).code).toBe(2);
    expect((await moneyOf(orderId)).refunds).toEqual([]);
  });

  it("made in Stripe's dashboard reaches the order through charge.refunded", async () => {
    const { orderId, auth, email } = await e2e.paidOrder();
    const [intent] = await e2e.intentsFor(orderId);
    await stripe.refunds.create({ payment_intent: intent!.id, amount: 700 });
    await reaches(orderId, auth, 'partially_refunded', 700);
    expect((await subjectsTo(email, 2)).filter((s) => s.startsWith('Refund of'))).toHaveLength(1);
    // The ledger is Stripe's: an operator's refund sees the dashboard's and refunds only the rest.
    const rest = await opsRefund('--order', orderId);
    expect(JSON.parse(rest.out)).toMatchObject({ status: 'refunded', amount: 1899, refundedAmount: 2599 });
    await reaches(orderId, auth, 'refunded', 2599);
    expect(sum((await moneyOf(orderId)).refunds)).toBe(2599);
  });
});
