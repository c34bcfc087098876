import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { TOPICS, type OrderCreateEvent, type PaymentEvent } from '@paystream/common/events';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import { RECONCILE_SCHEDULES, paymentWorkflowId } from '@paystream/workflows';
import { cfg, collectTopic, eventually, mailpit } from '../support';
import { E2E_PORTS, startE2E, type E2E } from './support';

/**
 * The promise after Temporal has forgotten an order: the order's payment history is deleted (as the
 * namespace's retention does) and its order.create consumed again (an offset reset). The ledger gate must
 * charge nothing and email nobody; asserted in localstripe, the payments database, Kafka and Mailpit.
 * Then reconciliation on its Schedule: an intent made in localstripe behind Paystream's back is drift.
 */
let e2e: E2E;
let payments: PgClient;
const stripe = createStripe(cfg); // localstripe itself, not the recording proxy: every intent it holds
const startedAt = Math.floor(Date.now() / 1000) - 5;
const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.ledger, { RECONCILE_STALE_SECONDS: '1' });
  payments = new PgClient({ connectionString: cfg.PAYMENT_DATABASE_URL });
  await payments.connect();
}, 180_000);

afterAll(async () => {
  await payments?.end();
  await e2e?.stop();
});

/** Every PaymentIntent localstripe holds for the order (its `created` filter, then our metadata). */
async function intentsInStripe(orderId: string): Promise<Stripe.PaymentIntent[]> {
  const found: Stripe.PaymentIntent[] = [];
  for await (const intent of stripe.paymentIntents.list({ created: { gte: startedAt }, limit: 100 }))
    if (intent.metadata?.orderId === orderId) found.push(intent);
  return found;
}

/**
 * What retention does: the closed run and its history are gone. Deletion is asynchronous (a second or
 * two on the local dev server, which checkpoints its transfer queue every second; far longer on a loaded
 * box): waited for.
 */
async function forget(orderId: string): Promise<void> {
  const workflowId = paymentWorkflowId(orderId);
  await e2e.client.workflowService.deleteWorkflowExecution({
    namespace: cfg.TEMPORAL_NAMESPACE,
    workflowExecution: { workflowId },
  });
  await eventually(
    async () => {
      try {
        await e2e.client.workflow.getHandle(workflowId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return;
        throw err;
      }
      throw new Error(`${workflowId} still there`);
    },
    90_000,
    250,
  );
}

/** The order's order.create, as the outbox wrote it, on the topic once more (an offset reset). */
async function consumeAgain(orderId: string): Promise<void> {
  const { rows } = await e2e.orders.query<{ payload: OrderCreateEvent }>(
    `SELECT payload FROM outbox WHERE message_key = $1 AND topic = $2`,
    [orderId, TOPICS.orderCreate],
  );
  expect(rows).toHaveLength(1);
  await e2e.producer.send({
    topic: TOPICS.orderCreate,
    messages: [{ key: orderId, value: JSON.stringify(rows[0]!.payload) }],
  });
}

const ledgerOf = async (orderId: string) => ({
  payment: (
    await payments.query(
      `SELECT status, payment_intent_id, captured_amount::int AS captured FROM payments WHERE order_id = $1`,
      [orderId],
    )
  ).rows,
  movements: (
    await payments.query(
      `SELECT kind, stripe_object_id, amount::int AS amount FROM payment_movements WHERE order_id = $1`,
      [orderId],
    )
  ).rows,
});

describe('the payment ledger gate, after Temporal forgot the order', () => {
  it('a paid and a failed order consumed again charge nothing, publish their first events again and email nobody', async () => {
    const paid = await e2e.paidOrder();
    const [intent] = await intentsInStripe(paid.orderId);
    expect(await ledgerOf(paid.orderId)).toEqual({
      payment: [{ status: 'succeeded', payment_intent_id: intent!.id, captured: 2599 }],
      movements: [{ kind: 'charged', stripe_object_id: intent!.id, amount: 2599 }],
    });
    const unpaid = await e2e.customer(); // no card: the payment fails before Stripe
    const created = await e2e.post('/orders/create', { amount: 1500, currency: 'EUR' }, unpaid.auth);
    const failedId = created.body.orderId as string;
    expect((await e2e.finalStatus(failedId, unpaid.auth)).status).toBe('failed');
    await eventually(async () => {
      if ((await mailpit.messagesTo(unpaid.email)).length !== 1) throw new Error('no email yet');
    });
    expect((await ledgerOf(failedId)).payment).toEqual([
      { status: 'failed', payment_intent_id: null, captured: 0 },
    ]);

    const ids = new Set([paid.orderId, failedId]);
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k !== null && ids.has(k));
    try {
      const firsts = (await events.waitFor(2)).map((m) => JSON.parse(m.value) as PaymentEvent);
      await Promise.all([forget(paid.orderId), forget(failedId)]);
      await consumeAgain(paid.orderId);
      await consumeAgain(failedId);
      const all = (await events.waitFor(4, 30_000, 2000)).map((m) => JSON.parse(m.value) as PaymentEvent);
      expect(all).toHaveLength(4);
      for (const first of firsts)
        expect(all.filter((e) => e.orderId === first.orderId).slice(1)).toEqual([
          expect.objectContaining({ eventId: first.eventId, status: first.status, replayed: true }),
        ]);
      // The new runs asked the ledger and nothing else: no activity task, no second intent.
      for (const orderId of ids) {
        const history = await e2e.client.workflow.getHandle(paymentWorkflowId(orderId)).fetchHistory();
        const scheduled = (history.events ?? []).filter(
          (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        );
        expect(scheduled).toHaveLength(0);
      }
    } finally {
      await events.stop();
    }
    expect((await intentsInStripe(paid.orderId)).map((i) => [i.id, i.status])).toEqual([
      [intent!.id, 'succeeded'],
    ]);
    expect(await intentsInStripe(failedId)).toEqual([]);
    expect((await ledgerOf(paid.orderId)).movements).toHaveLength(1);
    expect((await mailpit.messagesTo(paid.email)).length).toBe(1);
    expect((await mailpit.messagesTo(unpaid.email)).length).toBe(1);
    expect(await e2e.statusOf(paid.orderId, paid.auth)).toMatchObject({
      status: 'paid',
      paymentIntentId: intent!.id,
    });
    expect((await e2e.statusOf(failedId, unpaid.auth)).status).toBe('failed');
  }, 180_000); // the two deletions alone may take up to forget()'s 90 s on a loaded CI box
});

describe('reconciliation on its Schedule', () => {
  it('reports an intent made behind Paystream’s back as drift, which the CLI lists and resolves', async () => {
    const schedule = await e2e.client.schedule.getHandle(RECONCILE_SCHEDULES.interval).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconciliationWorkflow' });
    expect(schedule.spec.intervals?.[0]?.every).toBeDefined();

    // Someone with the Stripe key charges "an order" directly: no ledger row knows the intent.
    const stranger = randomUUID();
    const customer = await stripe.customers.create({ email: 'behind-our-back@example.test' });
    const intent = await stripe.paymentIntents.create({
      amount: 990,
      currency: 'eur',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { orderId: stranger },
    });
    await new Promise((r) => setTimeout(r, 1500)); // older than the pass's grace (RECONCILE_STALE_SECONDS=1)
    await e2e.client.schedule.getHandle(RECONCILE_SCHEDULES.interval).trigger();

    const drift = await eventually(
      async () => {
        const { rows } = await payments.query<{ id: string }>(
          `SELECT id::text, kind, order_id, stripe_amount::int AS amount, resolved_at FROM drift WHERE stripe_object_id = $1`,
          [intent.id],
        );
        if (!rows.length) throw new Error('no drift yet');
        return rows;
      },
      30_000,
      250,
    );
    expect(drift).toEqual([
      { id: expect.any(String), kind: 'unknown_intent', order_id: stranger, amount: 990, resolved_at: null },
    ]);
    // The gauge is set when the pass ends, a moment after the finding is written.
    await eventually(async () => {
      const metricsText = await (await fetch(`${e2e.services.url('payment')}/metrics`)).text();
      expect(metricsText).toMatch(/payment_drift_open\{kind="unknown_intent"\} [1-9]/);
    }, 30_000);

    const env = {
      ...process.env,
      PAYMENT_DATABASE_URL: cfg.PAYMENT_DATABASE_URL,
      USER_SERVICE_URL: e2e.services.url('user'), // a resolution is audited by this set's user service
    };
    const ops = (...args: string[]) =>
      run('node', ['--conditions=built', 'services/payment/dist/ops/cli.js', ...args], { cwd: ROOT, env });
    const listed = (await ops('recon', 'list')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string });
    expect(listed.map((d) => d.id)).toContain(drift[0]!.id);
    await ops('recon', 'resolve', drift[0]!.id, '--reason', 'a test intent made on purpose');
    const { rows } = await payments.query(`SELECT resolution, resolved_at FROM drift WHERE id = $1`, [
      drift[0]!.id,
    ]);
    expect(rows).toEqual([{ resolution: 'a test intent made on purpose', resolved_at: expect.any(Date) }]);
  });
});
