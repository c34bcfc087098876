import { randomUUID } from 'node:crypto';
import { TOPICS, type PaymentEvent } from '@paystream/common';
import { collectTopic, eventually, mailpit } from '../support';
import { E2E_PORTS, startE2E, type E2E } from './support';

/**
 * The whole path on the real stack: sign up → add a card → place an order → paid, with exactly one
 * PaymentIntent, one payment.event and one email; the same Idempotency-Key returns the same order.
 */
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.happyPath);
}, 180_000);

afterAll(() => e2e?.stop());

describe('an order, end to end', () => {
  it('is paid: one PaymentIntent, one payment.event, one email, and its Idempotency-Key returns it again', async () => {
    const { auth, userId, email } = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const key = `e2e-${randomUUID()}`;
    const created = await e2e.post(
      '/orders/create',
      { amount: 2599, currency: 'EUR' },
      { ...auth, 'idempotency-key': key },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', amount: 2599, currency: 'eur' });
    const orderId = created.body.orderId as string;
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      const final = await e2e.finalStatus(orderId, auth);
      expect(final.status).toBe('paid');

      // The same Idempotency-Key returns the same order, never a second one.
      const again = await e2e.post(
        '/orders/create',
        { amount: 2599, currency: 'eur' },
        { ...auth, 'idempotency-key': key },
      );
      expect(again.status).toBe(200);
      expect(again.body.orderId).toBe(orderId);
      const rows = await e2e.orders.query(`SELECT status FROM orders WHERE user_id = $1`, [userId]);
      expect(rows.rows).toEqual([{ status: 'paid' }]);

      const published = await events.waitFor(1, 20_000, 2000);
      expect(published).toHaveLength(1);
      const event = JSON.parse(published[0]!.value) as PaymentEvent;
      expect(event).toMatchObject({ orderId, userId, status: 'succeeded', amount: 2599, currency: 'eur' });
      expect(final.paymentIntentId).toBe(event.paymentIntentId);

      const intents = await e2e.intentsFor(orderId);
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({
        id: event.paymentIntentId,
        status: 'succeeded',
        amount: 2599,
        currency: 'eur',
      });

      const handle = e2e.client.workflow.getHandle(`payment-${orderId}`);
      expect((await handle.describe()).status.name).toBe('COMPLETED');

      // ...and the customer is told, once.
      const mails = await eventually(async () => {
        const m = await mailpit.messagesTo(email);
        if (!m.length) throw new Error('no email yet');
        return m;
      });
      expect(mails.map((m) => m.Subject)).toEqual(['Payment received — €25.99']);
    } finally {
      await events.stop();
    }
  });
});
