/**
 * `npm run bench:reconcile -- --orders 10000`: how long one reconciliation pass takes over N paid orders.
 * Seeds N orders as a normal run leaves them (an intent charged in localstripe; the ledger's claim, intent,
 * charge and outcome; the order row `paid`), then times each rule over a window that holds them all. Not a
 * test: it prints figures. Run it on the local stack (`./paystream stack up`). `--window <seconds>` skips the
 * seeding and times a pass over what the last seconds hold (orders seeded by an earlier run); `--rules a,c`
 * times only those rules.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@paystream/common/config';
import { initDataSource } from '@paystream/common/db';
import { createServiceApp, finish } from '@paystream/common/http';
import { createKafka, createProducer } from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { createStripe } from '@paystream/common/stripe';
import { createWorkflowClient } from '@paystream/common/temporal';
import { Connection } from '@temporalio/client';
import { serve } from '../test/support';
import { paymentDataSource } from '../services/payment/src/ledger/data-source';
import { Ledger } from '../services/payment/src/ledger/ledger';
import { createReconcileActivities } from '../services/payment/src/reconcile';
import { orderDataSource } from '../services/order/src/db/data-source';
import { internalRoutes } from '../services/order/src/routes/internal';

const cfg = loadConfig();
const at = (flag: string) => process.argv[process.argv.indexOf(flag) + 1];
const ORDERS = Number(process.argv.includes('--orders') ? at('--orders') : 1000);
const PARALLEL = 8;

async function main(): Promise<void> {
  const logger = createLogger('bench-reconcile', 'warn');
  const stripe = createStripe(cfg);
  // localstripe scans every object it holds for each page of a list: far slower than Stripe at this size.
  const patient = createStripe(cfg, { timeout: 300_000 });
  const windowSeconds = process.argv.includes('--window') ? Number(at('--window')) : undefined;
  const only = process.argv.includes('--rules') ? at('--rules')!.split(',') : ['a', 'b', 'c'];
  const paymentsDb = await initDataSource(paymentDataSource(cfg.PAYMENT_DATABASE_URL));
  const ordersDb = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  const ledger = new Ledger(paymentsDb);
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const producer = createProducer(createKafka('bench-reconcile', cfg));
  await producer.connect();
  const app = createServiceApp({ logger });
  app.use(internalRoutes(ordersDb, cfg));
  const orderService = await serve(finish(app, logger));
  const started = Date.now();
  try {
    const customer = await stripe.customers.create({ email: 'bench-reconcile@example.test' });
    let next = windowSeconds === undefined ? 0 : ORDERS;
    const seedStarted = Date.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < ORDERS) {
          next++;
          const order = { orderId: randomUUID(), userId: randomUUID(), amount: 1999, currency: 'eur' };
          const intent = await stripe.paymentIntents.create({
            amount: order.amount,
            currency: order.currency,
            customer: customer.id,
            payment_method: 'pm_card_visa',
            confirm: true,
            metadata: { orderId: order.orderId, userId: order.userId },
          });
          await ledger.claim(order);
          await ledger.recordIntent(order, intent.id);
          await ledger.recordCharge({ ...order, paymentIntentId: intent.id, occurredAt: new Date() });
          await ledger.recordOutcome({
            ...order,
            status: 'succeeded',
            eventId: randomUUID(),
            paymentIntentId: intent.id,
          });
          await ordersDb.query(
            `INSERT INTO orders (id, user_id, amount, currency, status, payment_intent_id) VALUES ($1, $2, $3, $4, 'paid', $5)`,
            [order.orderId, order.userId, order.amount, order.currency, intent.id],
          );
        }
      }),
    );
    console.log(
      `[bench] seeded ${ORDERS} paid orders in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`,
    );
    const rules = createReconcileActivities({
      stripe: patient,
      ledger,
      client: createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg)),
      producer,
      orderServiceUrl: orderService.url,
      serviceToken: cfg.SERVICE_TOKEN,
      logger,
    });
    const input = {
      pass: 'daily' as const,
      windowSeconds: windowSeconds ?? Math.ceil((Date.now() - started) / 1000) + 60,
      staleSeconds: 0,
    };
    const timed = async (name: string, fn: () => Promise<unknown>) => {
      const t = Date.now();
      const out = await fn();
      console.log(
        `[bench] ${name.padEnd(22)} ${((Date.now() - t) / 1000).toFixed(2)} s  ${JSON.stringify(out)}`,
      );
      return Date.now() - t;
    };
    const run = (rule: string, name: string, fn: () => Promise<unknown>) =>
      only.includes(rule) ? timed(name, fn) : Promise.resolve(0);
    const total =
      (await run('a', 'open payments (a)', () => rules.reconcileOpenPayments(input))) +
      (await run('b', 'Stripe objects (b)', () => rules.reconcileStripeObjects(input))) +
      (await run('c', 'order statuses (c)', () => rules.reconcileOrderStatuses(input)));
    console.log(
      `[bench] one pass over the window (${input.windowSeconds} s): ${(total / 1000).toFixed(2)} s`,
    );
  } finally {
    await orderService.close();
    await producer.disconnect();
    await connection.close();
    await paymentsDb.destroy();
    await ordersDb.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
