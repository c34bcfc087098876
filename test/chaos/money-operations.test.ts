import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { initDataSource } from '@paystream/common/db';
import { createStripe } from '@paystream/common/stripe';
import { RECONCILE_SCHEDULES } from '@paystream/workflows';
import { Client as PgClient } from 'pg';
import type { DataSource } from 'typeorm';
import { webhookVerifierPython } from '../../stack';
import { cfg, disableWebhookEndpoints, eventually } from '../support';
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
 * - the merchant's webhook receiver is down while orders are paid and refunded, and the notification and
 *   payment services are SIGKILLed meanwhile: every event reaches the receiver once it is back, verified by the
 *   Standard Webhooks reference library, in the order it happened for its order, none lost.
 * Captures and refunds go through after-sale's captureOrder / refundOrder, the code the operator API runs.
 */
const CAPTURES = Number(process.env.CHAOS_CAPTURE_ORDERS ?? 20);
const DISPUTES = Number(process.env.CHAOS_DISPUTE_ORDERS ?? 10);
const WEBHOOK_ORDERS = Number(process.env.CHAOS_WEBHOOK_ORDERS ?? 10);
const DISPUTE_CARD = { card: { number: '4000000000000259', expMonth: 12, expYear: 2034, cvc: '123' } };
const stripe = createStripe(cfg);
let e2e: E2E;
let paymentsDb: DataSource;
let afterSale: AfterSaleDeps;

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.moneyChaos, 600, {
    RECONCILE_STALE_SECONDS: '2',
    WEBHOOK_INITIAL_RETRY_MS: '300',
    WEBHOOK_MAX_RETRY_MS: '1000',
  });
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

it("the merchant's receiver down while the notifier and the payment service are killed: every event arrives, in order", async () => {
  const port = 18398;
  const receiverUrl = `http://127.0.0.1:${port}`;
  const receiver = spawn(
    await webhookVerifierPython(),
    [path.join(__dirname, '../support/webhook_receiver.py'), String(port)],
    { stdio: 'ignore' },
  );
  try {
    await eventually(async () => expect((await fetch(`${receiverUrl}/_received`)).status).toBe(200));
    const made = await e2e.ops('keys', 'create', '--name', 'chaos webhooks', '--scopes', 'webhooks:write');
    const { key } = JSON.parse(made.out) as { key: string };
    const hook = `/hook/${randomUUID()}`;
    const endpoint = await fetch(`${e2e.services.url('gateway')}/admin/webhooks/endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiverUrl}${hook}`, eventTypes: ['order.paid', 'order.refunded'] }),
    });
    expect(endpoint.status).toBe(201);
    const { secret } = (await endpoint.json()) as { secret: string };
    await fetch(`${receiverUrl}/_secret`, { method: 'POST', body: JSON.stringify({ path: hook, secret }) });
    await fetch(`${receiverUrl}/_fail`, { method: 'POST', body: JSON.stringify({ status: 503 }) });

    const orders = await place(WEBHOOK_ORDERS, { paymentMethodId: 'pm_card_visa' }, (i) => ({
      amount: 1500 + i,
    }));
    const notifications = new PgClient({ connectionString: cfg.NOTIFICATION_DATABASE_URL });
    await notifications.connect();
    const deliveries = async (status?: string) =>
      (
        await notifications.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE e.url = $1 AND ($2::text IS NULL OR d.status = $2) AND d.attempts > 0`,
          [`${receiverUrl}${hook}`, status ?? null],
        )
      ).rows[0]!.n;
    // Killed once deliveries of order.paid are being tried (and refused) — not before there are any.
    await eventually(async () => expect(await deliveries()).toBeGreaterThan(0), 60_000, 200);
    await e2e.services.stop('notification', 'SIGKILL');
    await Promise.all(orders.map((o) => statusIs(o.orderId, o.buyer, 'paid')));
    const refunds = orders.map(async (o) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await refundOrder(afterSale, o.orderId, {
            requestId: `chaos-hook-${o.orderId}`,
            amount: 500,
          });
        } catch (err) {
          if (err instanceof PaymentRefused || attempt > 60) throw err;
          await sleep(1000);
        }
      }
    });
    await sleep(300);
    await e2e.services.stop('payment', 'SIGKILL'); // with refunds under way
    await sleep(3000);
    await e2e.services.start('payment');
    await e2e.services.start('notification');
    await Promise.all(refunds);
    await sleep(2000);
    await fetch(`${receiverUrl}/_recover`, { method: 'POST' });

    // Once it is back: each order's two events, verified, the payment before its refund (a repeat after a
    // restart is the same message — same webhook-id — which a receiver drops).
    type Received = { path: string; id: string; verified: boolean; type: string; orderId: string };
    const arrived = async () => {
      const all = ((await (await fetch(`${receiverUrl}/_received`)).json()) as Received[]).filter(
        (m) => m.path === hook && m.verified,
      );
      const firsts = new Map<string, Received>();
      for (const m of all) if (!firsts.has(m.id)) firsts.set(m.id, m);
      return orders.map((o) =>
        [...firsts.values()].filter((m) => m.orderId === o.orderId).map((m) => m.type),
      );
    };
    await eventually(
      async () => expect(await arrived()).toEqual(orders.map(() => ['order.paid', 'order.refunded'])),
      180_000,
      1000,
    );
    expect(await deliveries('delivered')).toBe(2 * WEBHOOK_ORDERS);
    expect(await deliveries()).toBe(2 * WEBHOOK_ORDERS);
    await notifications.end();
  } finally {
    receiver.kill();
    await disableWebhookEndpoints(receiverUrl);
  }
}, 420_000);
