import { randomUUID } from 'node:crypto';
import { ALL_TOPICS, createKafka, createProducer, ensureTopics, publishJson } from '@paystream/common';
import { cfg, collectTopic } from '../support';

describe('Kafka 3.9 KRaft broker (real, via kafkajs)', () => {
  const kafka = createKafka('infra-test', cfg.KAFKA_BROKERS);

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
});
