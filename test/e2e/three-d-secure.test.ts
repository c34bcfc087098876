import { createHmac, randomUUID } from 'node:crypto';
import { TOPICS } from '@paystream/common/events';
import { temporal } from '@temporalio/proto';
import { cfg, collectTopic, eventually, mailpit } from '../support';
import {
  authenticate,
  awaitingAuthentication,
  E2E_PORTS,
  startE2EWithWebhooks,
  type Auth,
  type E2E,
  type OrderStatus,
} from './support';

/**
 * 3-D Secure through Stripe's signed webhooks, on the real stack: localstripe asks for authentication
 * for card 4000002760003184, the test plays the customer (`_authenticate`), localstripe signs and
 * delivers the webhook to the gateway, and the payment workflow re-reads the intent before it decides.
 */
const AUTH_TIMEOUT_SECONDS = 8;
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.threeDSecure, AUTH_TIMEOUT_SECONDS);
}, 180_000);

afterAll(() => e2e?.stop());

const orderNeedingAuthentication = () => awaitingAuthentication(e2e);

const settled = (orderId: string, auth: Auth, timeoutMs = 20_000) =>
  eventually(async () => {
    const s = await e2e.statusOf(orderId, auth);
    if (s.status === 'pending' || s.status === 'requires_action') throw new Error(`still ${s.status}`);
    return s;
  }, timeoutMs);

/** Signs a payload as Stripe does: `Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`. */
function signed(payload: string, secret = cfg.STRIPE_WEBHOOK_SECRET, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
  return { 'stripe-signature': `t=${t},v1=${v1}`, 'content-type': 'application/json' };
}

async function deliver(payload: string, headers: Record<string, string>) {
  const res = await fetch(`${e2e.services.url('gateway')}/webhooks/stripe`, {
    method: 'POST',
    headers,
    body: payload,
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const intentEvent = (eventId: string, orderId: string, intentId = 'pi_unknown') =>
  JSON.stringify({
    id: eventId,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: intentId, object: 'payment_intent', metadata: { orderId } } },
  });

async function webhookCount(result: string): Promise<number> {
  const text = await (await fetch(`${e2e.services.url('payment')}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('stripe_webhooks_total{') && l.includes(`result="${result}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** How often the workflow re-read the intent from Stripe (its local activity markers). */
async function intentReads(orderId: string): Promise<number> {
  const history = await e2e.client.workflow.getHandle(`payment-${orderId}`).fetchHistory();
  return (history.events ?? []).filter(
    (e) =>
      e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_MARKER_RECORDED &&
      Object.values(e.markerRecordedEventAttributes?.details ?? {})
        .flatMap((p) => p.payloads ?? [])
        .some((p) =>
          Buffer.from(p.data ?? [])
            .toString('utf8')
            .includes('getPaymentIntentState'),
        ),
  ).length;
}

describe('3-D Secure', () => {
  it('waits for the customer, then a signed webhook and a re-read make it paid: one charge, two emails', async () => {
    const { orderId, auth, email, waiting } = await orderNeedingAuthentication();
    expect(waiting.nextAction).toEqual({ type: 'use_stripe_sdk', clientSecret: expect.any(String) });
    const intentId = waiting.paymentIntentId!;
    expect(waiting.nextAction!.clientSecret.startsWith(`${intentId}_secret`)).toBe(true);
    const seen = await collectTopic(TOPICS.stripeEvents, (k) => k === orderId);
    try {
      await authenticate(intentId, waiting.nextAction!.clientSecret, true);
      const paid: OrderStatus = await settled(orderId, auth);
      expect(paid).toMatchObject({ status: 'paid', paymentIntentId: intentId });
      expect(paid).not.toHaveProperty('nextAction');
      const [event] = await seen.waitFor(1, 10_000);
      expect(JSON.parse(event!.value)).toMatchObject({ type: 'payment_intent.succeeded', orderId });
    } finally {
      await seen.stop();
    }
    const intents = await e2e.intentsFor(orderId);
    expect(intents.map((i) => [i.id, i.status])).toEqual([[intentId, 'succeeded']]);
    const subjects = await eventually(async () => {
      const mails = await mailpit.messagesTo(email);
      if (mails.length < 2) throw new Error(`${mails.length} emails so far`);
      return mails.map((m) => m.Subject).sort();
    });
    expect(subjects).toEqual(['Action needed — confirm your payment of €42.00', 'Payment received — €42.00']);
  });

  it('fails with Stripe’s reason when the customer fails the challenge', async () => {
    const { orderId, auth, waiting } = await orderNeedingAuthentication();
    await authenticate(waiting.paymentIntentId!, waiting.nextAction!.clientSecret, false);
    expect(await settled(orderId, auth)).toMatchObject({
      status: 'failed',
      failureReason: 'The provided PaymentMethod has failed authentication.',
    });
    // Cancelled, so the public client secret cannot confirm it later behind a failed order.
    const [intent] = await e2e.intentsFor(orderId);
    expect(intent!.status).toBe('canceled');
    expect(intent!.latest_charge ?? null).toBeNull();
  });

  it('cancels the PaymentIntent when the customer never authenticates, and fails the order', async () => {
    const { orderId, auth } = await orderNeedingAuthentication();
    expect(await settled(orderId, auth, (AUTH_TIMEOUT_SECONDS + 20) * 1000)).toMatchObject({
      status: 'failed',
      failureReason: 'authentication not completed',
    });
    const [intent] = await e2e.intentsFor(orderId);
    expect(intent!.status).toBe('canceled');
  });
});

describe('Stripe webhooks', () => {
  it('refuses a bad signature and a stale timestamp with 400, and changes nothing', async () => {
    const { orderId, auth, waiting } = await orderNeedingAuthentication();
    const payload = intentEvent(`evt_${randomUUID()}`, orderId, waiting.paymentIntentId);
    const forged = await deliver(payload, signed(payload, 'not-the-endpoint-secret'));
    const stale = await deliver(
      payload,
      signed(payload, cfg.STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600),
    );
    const unsigned = await deliver(payload, { 'content-type': 'application/json' });
    for (const r of [forged, stale, unsigned]) {
      expect({ status: r.status, type: r.type }).toEqual({
        status: 400,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(r.body).not.toContain(cfg.STRIPE_WEBHOOK_SECRET);
    }
    expect(await intentReads(orderId)).toBe(0);
    expect((await e2e.statusOf(orderId, auth)).status).toBe('requires_action');
  });

  it('takes a signed event as a hint only: the intent is re-read, a repeated event id is not, and the order waits on', async () => {
    const { orderId, auth, waiting } = await orderNeedingAuthentication();
    // Correctly signed, but it claims a success Stripe does not have: the re-read finds requires_action.
    const payload = intentEvent(`evt_${randomUUID()}`, orderId, waiting.paymentIntentId);
    expect((await deliver(payload, signed(payload))).status).toBe(200);
    await eventually(async () => expect(await intentReads(orderId)).toBe(1));
    expect((await deliver(payload, signed(payload))).status).toBe(200); // Stripe's redelivery
    await new Promise((r) => setTimeout(r, 1000));
    expect(await intentReads(orderId)).toBe(1);
    expect((await e2e.statusOf(orderId, auth)).status).toBe('requires_action');
    // The real authentication still goes through, with one charge.
    await authenticate(waiting.paymentIntentId!, waiting.nextAction!.clientSecret, true);
    expect((await settled(orderId, auth)).status).toBe('paid');
    expect((await e2e.intentsFor(orderId)).map((i) => i.status)).toEqual(['succeeded']);
  });

  it('records an event for a payment the ledger has settled with that intent, and wakes no workflow', async () => {
    const { orderId } = await e2e.paidOrder();
    const { paymentIntentId } = (
      await e2e.orders.query(`SELECT payment_intent_id AS "paymentIntentId" FROM orders WHERE id = $1`, [
        orderId,
      ])
    ).rows[0] as { paymentIntentId: string };
    const signals = async () =>
      ((await e2e.client.workflow.getHandle(`payment-${orderId}`).fetchHistory()).events ?? []).filter(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      ).length;
    const before = { settled: await webhookCount('settled'), signals: await signals() };
    const payload = intentEvent(`evt_${randomUUID()}`, orderId, paymentIntentId);
    expect((await deliver(payload, signed(payload))).status).toBe(200);
    expect({ settled: await webhookCount('settled'), signals: await signals() }).toEqual({
      settled: before.settled + 1,
      signals: before.signals,
    });
  });

  it('acknowledges and counts an event for an order with no payment workflow', async () => {
    const before = await webhookCount('no-workflow');
    const payload = intentEvent(`evt_${randomUUID()}`, randomUUID());
    const answer = await deliver(payload, signed(payload));
    expect(answer.status).toBe(200);
    expect(await webhookCount('no-workflow')).toBe(before + 1);
  });
});
