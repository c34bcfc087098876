import { randomUUID } from 'node:crypto';
import { createStripe } from '@paystream/common/stripe';
import { Client as PgClient } from 'pg';
import { RECONCILE_SCHEDULES } from '@paystream/workflows';
import { cfg, eventually, mailpit } from '../support';
import {
  authenticate,
  awaitingAuthentication,
  E2E_PORTS,
  sendStripeWebhooksTo,
  startE2EWithWebhooks,
  type E2E,
} from '../e2e/support';

/**
 * Webhooks lost: Stripe's endpoint refuses for a while (localstripe, like a Stripe whose retries ran out,
 * never delivers again). Meanwhile some customers pass 3-D Secure and some paid orders are refunded in
 * "the dashboard" (localstripe directly). After the next reconciliation pass every order matches Stripe —
 * the authenticated ones paid, the refunds applied and emailed once — and no drift is left for them.
 */
const THREE_DS_ORDERS = Number(process.env.CHAOS_WEBHOOK_3DS_ORDERS ?? 10);
const REFUNDED_ORDERS = Number(process.env.CHAOS_WEBHOOK_REFUNDS ?? 10);
const stripe = createStripe(cfg);
let e2e: E2E;
let payments: PgClient;

beforeAll(async () => {
  // A long 3-D Secure window: only reconciliation can finish these payments within the test.
  e2e = await startE2EWithWebhooks(E2E_PORTS.webhooksLost, 600, { RECONCILE_STALE_SECONDS: '2' });
  payments = new PgClient({ connectionString: cfg.PAYMENT_DATABASE_URL });
  await payments.connect();
}, 180_000);

afterAll(async () => {
  await payments?.end();
  await e2e?.stop();
});

it('webhooks lost while customers authenticate and the dashboard refunds: the next reconciliation heals every order, drift 0', async () => {
  const waiting = [];
  for (let i = 0; i < THREE_DS_ORDERS; i++) waiting.push(await awaitingAuthentication(e2e));
  const paid: Awaited<ReturnType<E2E['paidOrder']>>[] = [];
  for (let i = 0; i < REFUNDED_ORDERS; i++) paid.push(await e2e.paidOrder());

  // The endpoint refuses: every event Stripe sends from now on is lost.
  await sendStripeWebhooksTo('http://127.0.0.1:9');
  const authenticated = waiting.filter((_, i) => i % 2 === 0);
  for (const w of authenticated)
    await authenticate(w.waiting.paymentIntentId!, w.waiting.nextAction!.clientSecret, true);
  const refunds = new Map<string, { id: string; amount: number }>();
  for (const [i, p] of paid.entries()) {
    const [intentId] = (await e2e.intentsFor(p.orderId)).map((pi) => pi.id);
    const refund = await stripe.refunds.create({
      payment_intent: intentId!,
      ...(i % 2 ? { amount: 1000 } : {}), // half in part, half in full
      metadata: { reason: `dashboard-${randomUUID().slice(0, 8)}` },
    });
    refunds.set(p.orderId, { id: refund.id, amount: refund.amount });
  }
  await new Promise((r) => setTimeout(r, 3000)); // their webhooks go nowhere now
  await sendStripeWebhooksTo(e2e.services.url('gateway'));
  await e2e.client.schedule.getHandle(RECONCILE_SCHEDULES.interval).trigger();

  const statuses = await eventually(
    async () => {
      const now = await Promise.all([
        ...authenticated.map((w) => e2e.statusOf(w.orderId, w.auth)),
        ...paid.map((p) => e2e.statusOf(p.orderId, p.auth)),
      ]);
      const unpaid = now.slice(0, authenticated.length).filter((s) => s.status !== 'paid').length;
      const unrefunded = now.slice(authenticated.length).filter((s) => s.status === 'paid').length;
      if (unpaid + unrefunded)
        throw new Error(`${unpaid} authenticated orders not paid, ${unrefunded} refunds not applied yet`);
      return now;
    },
    90_000,
    1000,
  );
  expect(statuses.slice(0, authenticated.length).map((s) => s.status)).toEqual(
    authenticated.map(() => 'paid'),
  );
  expect(statuses.slice(authenticated.length).map((s) => [s.status, s.refundedAmount])).toEqual(
    paid.map((p) => {
      const { amount } = refunds.get(p.orderId)!;
      return [amount === 2599 ? 'refunded' : 'partially_refunded', amount];
    }),
  );
  // Stripe agrees: one charge each, and the refunds in the ledger under their own ids.
  for (const w of authenticated) {
    const intents = await e2e.intentsFor(w.orderId);
    expect(intents.map((pi) => pi.status)).toEqual(['succeeded']);
  }
  const { rows: movements } = await payments.query<{ stripe_object_id: string }>(
    `SELECT stripe_object_id FROM payment_movements WHERE kind = 'refunded' AND order_id = ANY($1)`,
    [paid.map((p) => p.orderId)],
  );
  expect(movements.map((m) => m.stripe_object_id).sort()).toEqual(
    [...refunds.values()].map((r) => r.id).sort(),
  );
  const all = [...waiting.map((w) => w.orderId), ...paid.map((p) => p.orderId)];
  const { rows: drift } = await payments.query(`SELECT kind, order_id FROM drift WHERE order_id = ANY($1)`, [
    all,
  ]);
  expect(drift).toEqual([]);
  // Each refund emailed once: the payment's email and the refund's.
  await new Promise((r) => setTimeout(r, 2000));
  for (const p of paid) expect((await mailpit.messagesTo(p.email)).length).toBe(2);

  // The customers who never authenticated cancel: nothing was charged.
  for (const w of waiting.filter((_, i) => i % 2 === 1)) {
    const res = await fetch(`${e2e.services.url('gateway')}/orders/${w.orderId}/cancel`, {
      method: 'POST',
      headers: w.auth,
    });
    expect(res.status).toBeLessThan(300);
  }
}, 300_000);
