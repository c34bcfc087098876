import { randomUUID } from 'node:crypto';
import { CONSUMER_GROUPS, TOPICS } from '@paystream/common/events';
import { createKafka, createProducer, publishJson } from '@paystream/common/kafka';
import { KAFKA_ACCESS, type KafkaPrincipal } from '@paystream/common/kafka-access';
import type { Kafka } from 'kafkajs';
import { cfg } from '../support';

/**
 * Least privilege on the real broker (SASL/SCRAM-SHA-512, StandardAuthorizer): each service's principal
 * writes and reads only what kafka-access.ts grants it. Before this, any client could write payment.event
 * and mark an order paid.
 */
const as = (principal: KafkaPrincipal, extra: Partial<typeof cfg> = {}): Kafka =>
  createKafka(`acl-test-${principal}`, { ...cfg, ...extra }, { principal });

/** kafkajs words a refused write differently by where it is refused (metadata or produce). */
const AUTHORIZATION_FAILED = /authorization failed/i;

/** Each topic's end offsets summed: what a refused write must leave unchanged. */
async function endOffset(topic: string): Promise<number> {
  const admin = createKafka('acl-test-admin', cfg).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function publishAs(kafka: Kafka, topic: string): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    await publishJson(producer, topic, randomUUID(), { probe: 'acl-test' });
  } finally {
    await producer.disconnect();
  }
}

describe('Kafka: a principal per service, ACLs on every topic and group', () => {
  it("refuses the order service's principal a write to payment.event: nothing lands", async () => {
    const before = await endOffset(TOPICS.paymentEvent);
    await expect(publishAs(as('order'), TOPICS.paymentEvent)).rejects.toThrow(AUTHORIZATION_FAILED);
    expect(await endOffset(TOPICS.paymentEvent)).toBe(before);
  });

  it('lets each principal write exactly the topics it produces', async () => {
    for (const [principal, access] of Object.entries(KAFKA_ACCESS) as [
      KafkaPrincipal,
      { produces: readonly string[] },
    ][]) {
      const kafka = as(principal);
      for (const topic of Object.values(TOPICS)) {
        const write = publishAs(kafka, topic);
        if (access.produces.includes(topic)) await expect(write).resolves.toBeUndefined();
        else await expect(write).rejects.toThrow(AUTHORIZATION_FAILED);
      }
    }
  });

  it("refuses a consumer group that is not the principal's own", async () => {
    // The payment service may read order.create, but only as its own group: it cannot move another's offsets.
    const consumer = as('payment').consumer({ groupId: CONSUMER_GROUPS.order });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPICS.orderCreate });
      const crashed = new Promise<unknown>((resolve) =>
        consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error)),
      );
      await consumer.run({ eachMessage: () => Promise.resolve() }).catch((err: unknown) => err);
      // The broker answers FindCoordinator with GROUP_AUTHORIZATION_FAILED; kafkajs reports it as this.
      expect(await crashed).toMatchObject({ name: 'KafkaJSGroupCoordinatorNotFound' });
    } finally {
      await consumer.disconnect();
    }
  });

  it('refuses a wrong password and a client without SASL', async () => {
    const wrong = as('payment', { KAFKA_PASSWORD: 'not-the-password' }).admin({ retry: { retries: 0 } });
    await expect(wrong.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed/i);
    await wrong.disconnect().catch(() => undefined);
    const anonymous = as('payment', { KAFKA_SASL_MECHANISM: 'none' }).admin({ retry: { retries: 0 } });
    await expect(anonymous.connect().then(() => anonymous.listTopics())).rejects.toThrow();
    await anonymous.disconnect().catch(() => undefined);
  });
});
