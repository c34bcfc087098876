import { randomUUID } from 'node:crypto';
import { TOPICS, type OrderCreateEvent, type PaymentEvent } from '@paystream/common/events';
import { publishJson } from '@paystream/common/kafka';
import { collectTopic } from '../support';
import { E2E_PORTS, startE2E, type E2E } from './support';

/**
 * order.create as Kafka delivers it to the payment service, at least once: a message delivered twice is
 * one workflow run, one charge and one payment.event; a malformed one is parked and consuming goes on.
 */
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.orderCreateDelivery);
}, 180_000);

afterAll(() => e2e?.stop());

describe('an order, end to end', () => {
  it('charges once when order.create is delivered twice', async () => {
    const { producer } = e2e;
    const { userId } = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const orderId = randomUUID();
    const order: OrderCreateEvent = {
      eventId: randomUUID(),
      orderId,
      userId,
      amount: 777,
      currency: 'usd',
      createdAt: new Date().toISOString(),
    };
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      await publishJson(producer, TOPICS.orderCreate, orderId, order);
      await publishJson(producer, TOPICS.orderCreate, orderId, order);
      const published = await events.waitFor(1, 20_000, 3000);
      expect(published).toHaveLength(1);
      expect((JSON.parse(published[0]!.value) as PaymentEvent).status).toBe('succeeded');
      expect(await e2e.intentsFor(orderId)).toHaveLength(1);
      const runs: string[] = [];
      for await (const wf of e2e.client.workflow.list({ query: `WorkflowId = "payment-${orderId}"` }))
        runs.push(wf.runId);
      expect(runs).toHaveLength(1);
    } finally {
      await events.stop();
    }
  });

  it('parks a malformed order.create and keeps consuming', async () => {
    const { producer } = e2e;
    const { userId } = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const badKey = randomUUID();
    const orderId = randomUUID();
    const parked = await collectTopic(TOPICS.parked, (k) => k === badKey);
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      await producer.send({
        topic: TOPICS.orderCreate,
        messages: [{ key: badKey, value: '{"orderId": 42' }],
      });
      await publishJson(producer, TOPICS.orderCreate, orderId, {
        eventId: randomUUID(),
        orderId,
        userId,
        amount: 300,
        currency: 'usd',
        createdAt: new Date().toISOString(),
      } satisfies OrderCreateEvent);
      const [p] = await parked.waitFor(1);
      expect(JSON.parse(p!.value)).toMatchObject({
        topic: TOPICS.orderCreate,
        consumerGroup: 'payment-service',
        reason: expect.stringMatching(/invalid JSON/),
      });
      await events.waitFor(1);
    } finally {
      await parked.stop();
      await events.stop();
    }
  });
});
