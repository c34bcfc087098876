import { randomInt, randomUUID } from 'node:crypto';
import { ALL_TOPICS } from '@paystream/common/events';
import {
  createKafka,
  createProducer,
  ensureTopics,
  publishJson,
  runJsonConsumer,
} from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import { z } from 'zod';
import { cfg, collectTopic, eventually } from '../support';

describe('Kafka 3.9 KRaft broker (real, via kafkajs)', () => {
  const kafka = createKafka('infra-test', cfg);

  it('has the topics the services use, with several partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...ALL_TOPICS] });
      for (const topic of meta.topics) expect(topic.partitions.length).toBeGreaterThanOrEqual(3);
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toHaveLength(1);
    } finally {
      await admin.disconnect();
    }
  });

  it('round-trips a keyed JSON message with headers', async () => {
    const topic = 'infra.roundtrip';
    await ensureTopics(kafka, [topic], 3);
    const key = randomUUID();
    const collector = await collectTopic(topic, (k) => k === key);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await publishJson(producer, topic, key, { hello: 'kafka', n: 1 }, { 'x-probe': 'yes' });
      const [msg] = await collector.waitFor(1);
      expect(JSON.parse(msg!.value)).toEqual({ hello: 'kafka', n: 1 });
      expect(msg!.headers?.['x-probe']?.toString()).toBe('yes');
    } finally {
      await producer.disconnect();
      await collector.stop();
    }
  });

  it('starts a consumer again after a crash kafkajs would not restart, and redelivers the message', async () => {
    const topic = 'infra.consumer-crash';
    await ensureTopics(kafka, [topic], 1);
    const consumer = kafka.consumer({ groupId: `crash-test-${randomUUID()}` });
    const crashes: boolean[] = [];
    consumer.on(consumer.events.CRASH, ({ payload }) => crashes.push(payload.restart));
    const seen: number[] = [];
    const run = randomInt(1, 2 ** 31);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await runJsonConsumer({
        consumer,
        topic,
        groupId: 'crash-test',
        schema: z.object({ n: z.number() }),
        logger: createLogger('crash-test', 'silent'),
        onInvalid: () => Promise.resolve(),
        handle: ({ n }) => {
          if (n !== run) return Promise.resolve(); // earlier runs' messages on the same topic
          seen.push(n);
          // The first delivery fails the way a refused commit does: a non-retriable Kafka error.
          if (seen.length === 1)
            throw Object.assign(new Error('simulated UNKNOWN_MEMBER_ID'), { retriable: false });
          return Promise.resolve();
        },
      });
      await publishJson(producer, topic, 'k', { n: run });
      await eventually(() => {
        if (seen.length < 2) throw new Error(`deliveries so far: ${seen.length}`);
      }, 30_000);
      expect(crashes).toEqual([false]); // kafkajs gave up on it...
      expect(seen).toEqual([run, run]); // ...and it ran again and got the uncommitted message back
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }, 60_000);
});
