import { initDataSource } from '@paystream/common/db';
import { createStripe } from '@paystream/common/stripe';
import { RECONCILE_SCHEDULES } from '@paystream/workflows';
import type { DataSource } from 'typeorm';
import { cfg, eventually } from '../support';
import {
  E2E_PORTS,
  sendStripeWebhooksTo,
  startE2EWithWebhooks,
  type Customer,
  type E2E,
  type OrderStatus,
} from '../e2e/support';
import {
  captureOrder,
  PaymentRefused,
  refundOrder,
  type AfterSaleDeps,
} from '../../services/payment/src/after-sale';
import { paymentDataSource } from '../../services/payment/src/ledger/data-source';
import { Ledger } from '../../services/payment/src/ledger/ledger';

/**
 * Chaos around the money operations, each checked against localstripe and the ledger:
 * - the payment service is SIGKILLed while orders are authorized and their captures arrive: every order ends
 *   paid with exactly what was asked captured, once (a capture is never taken twice, never lost);
 * - disputes open while the webhook endpoint is down: reconciliation hears every one of them, every order
 *   becomes disputed, and no refund is made of a disputed order.
 * Captures and refunds go through after-sale's captureOrder / refundOrder, the code `npm run ops` runs.
 */
const CAPTURES = Number(process.env.CHAOS_CAPTURE_ORDERS ?? 20);
const DISPUTES = Number(process.env.CHAOS_DISPUTE_ORDERS ?? 10);
const DISPUTE_CARD = { card: { number: '4000000000000259', expMonth: 12, expYear: 2034, cvc: '123' } };
const stripe = createStripe(cfg);
let e2e: E2E;
let paymentsDb: DataSource;
let afterSale: AfterSaleDeps;

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.moneyChaos, 600, { RECONCILE_STALE_SECONDS: '2' });
  paymentsDb = await initDataSource(paymentDataSource(cfg.PAYMENT_DATABASE_URL));
  afterSale = { client: e2e.client, paymentOptions: {}, ledger: new Ledger(paymentsDb) };
}, 180_000);

afterAll(async () => {
  await paymentsDb?.destroy();
  await e2e?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `count` orders (`body(i)`) of up to five new customers paying with `card`, placed through the gateway. */
async function place(
  count: number,
  card: Record<string, unknown>,
  body: (i: number) => { amount: number } & Record<string, unknown>,
) {
  const buyers: Customer[] = [];
  for (let i = 0; i < Math.min(count, 5); i++) buyers.push(await e2e.customer(card));
  const orders: { orderId: string; buyer: Customer; amount: number }[] = [];
  for (let i = 0; i < count; i++) {
    const buyer = buyers[i % buyers.length]!;
    const request = { currency: 'EUR', ...body(i) };
    const created = await e2e.post('/orders/create', request, buyer.auth);
    expect(created.status).toBe(201);
    orders.push({ orderId: created.body.orderId as string, buyer, amount: request.amount });
  }
  return orders;
}

const statusIs = (orderId: string, buyer: Customer, wanted: string, timeoutMs = 90_000) =>
  eventually(
    async () => {
      const s = (await e2e.statusOf(orderId, buyer.auth)) as OrderStatus & { capturedAmount?: number };
      if (s.status !== wanted) throw new Error(`${orderId} is ${s.status}, not ${wanted}`);
      return s;
    },
    timeoutMs,
    500,
  );

it('payment service killed while orders are authorized and captures arrive: each captured once, none lost', async () => {
  const orders = await place(CAPTURES, { paymentMethodId: 'pm_card_visa' }, (i) => ({
    amount: 2000 + i,
    capture: 'manual',
  }));
  await Promise.all(orders.map((o) => statusIs(o.orderId, o.buyer, 'authorized')));
  // Half are captured in part, half in full; a capture whose answer is lost is asked again, same request id.
  const wanted = orders.map((o, i) => (i % 2 ? o.amount : 1000 + i));
  const captures = orders.map(async (o, i) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await captureOrder(afterSale, o.orderId, {
          requestId: `chaos-${o.orderId}`,
          ...(i % 2 ? {} : { amount: wanted[i]! }),
        });
      } catch (err) {
        if (err instanceof PaymentRefused || attempt > 60) throw err;
        await sleep(1000);
      }
    }
  });
  await sleep(300);
  await e2e.services.stop('payment', 'SIGKILL');
  await sleep(3000);
  await e2e.services.start('payment');
  const outcomes = await Promise.all(captures);

  expect(outcomes.map((o) => o.capturedAmount)).toEqual(wanted);
  const final = await Promise.all(orders.map((o) => statusIs(o.orderId, o.buyer, 'paid')));
  expect(final.map((s) => s.capturedAmount)).toEqual(wanted);
  const money = await Promise.all(
    orders.map(async (o) => {
      const intents = await e2e.intentsFor(o.orderId);
      const movements = await paymentsDb.query<{ kind: string; amount: number }[]>(
        `SELECT kind, amount::int AS amount FROM payment_movements WHERE order_id = $1 AND kind = 'captured'`,
        [o.orderId],
      );
      return {
        intents: intents.length,
        received: intents[0]?.amount_received,
        captured: movements.map((m) => m.amount),
      };
    }),
  );
  expect(money).toEqual(wanted.map((amount) => ({ intents: 1, received: amount, captured: [amount] })));
}, 300_000);

it('disputes opened while the webhook endpoint is down: reconciliation hears each, no refund of a disputed order', async () => {
  await sendStripeWebhooksTo('http://127.0.0.1:9'); // every event Stripe sends from now on is lost
  let orders: Awaited<ReturnType<typeof place>>;
  try {
    orders = await place(DISPUTES, DISPUTE_CARD, (i) => ({ amount: 3000 + i }));
    await Promise.all(orders.map((o) => statusIs(o.orderId, o.buyer, 'paid')));
    // Every charge is disputed now, and nobody was told.
    await eventually(async () => {
      const open = await Promise.all(
        orders.map(
          async (o) =>
            (await stripe.disputes.list({ payment_intent: (await e2e.intentsFor(o.orderId))[0]!.id })).data
              .length,
        ),
      );
      if (open.some((n) => n !== 1)) throw new Error(`disputes so far: ${open.join(',')}`);
    }, 30_000);
    await sleep(2500); // older than the pass's grace (RECONCILE_STALE_SECONDS=2)
    expect(
      await Promise.all(orders.map(async (o) => (await e2e.statusOf(o.orderId, o.buyer.auth)).status)),
    ).toEqual(orders.map(() => 'paid'));
    await e2e.client.schedule.getHandle(RECONCILE_SCHEDULES.interval).trigger();
    await Promise.all(orders.map((o) => statusIs(o.orderId, o.buyer, 'disputed')));
  } finally {
    await sendStripeWebhooksTo(e2e.services.url('gateway'));
  }

  // Refunds are refused, by the operator and by the customer's cancel, and nothing moves in Stripe.
  const refusals = await Promise.all(
    orders.map((o) =>
      refundOrder(afterSale, o.orderId, { requestId: 'chaos-refund' }).then(
        () => 'refunded',
        (err: unknown) => (err instanceof PaymentRefused ? 'refused' : String(err)),
      ),
    ),
  );
  expect(refusals).toEqual(orders.map(() => 'refused'));
  const cancels = await Promise.all(
    orders.map((o) => e2e.post(`/orders/${o.orderId}/cancel`, undefined, o.buyer.auth)),
  );
  expect(cancels.map((c) => c.status)).toEqual(orders.map(() => 409));
  const refunds = await Promise.all(
    orders.map(
      async (o) =>
        (await stripe.refunds.list({ payment_intent: (await e2e.intentsFor(o.orderId))[0]!.id })).data.length,
    ),
  );
  expect(refunds).toEqual(orders.map(() => 0));
  const withdrawn = await paymentsDb.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM payment_movements WHERE kind = 'dispute_withdrawn' AND order_id = ANY($1)`,
    [orders.map((o) => o.orderId)],
  );
  expect(withdrawn[0]!.n).toBe(DISPUTES);
}, 300_000);
