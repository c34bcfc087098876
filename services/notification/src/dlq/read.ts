import { randomUUID } from 'node:crypto';
import {
  DLQ_READER_GROUP_PREFIX,
  notificationDlqEntry,
  TOPICS,
  type NotificationDlqEntry,
} from '@paystream/common/events';
import type { Kafka } from 'kafkajs';

export interface DlqRecord {
  partition: number;
  offset: string;
  key: string | null;
  entry: NotificationDlqEntry | null;
  /** Set when the record itself is not a valid DLQ entry. */
  unreadable?: string;
}

/** Reads notification.dlq from the beginning up to its current end (a snapshot), without a lasting group. */
export async function readDlq(kafka: Kafka, timeoutMs = 30_000): Promise<DlqRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(TOPICS.notificationDlq).finally(() => admin.disconnect());
  const end = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const pending = new Set(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => o.partition));
  const records: DlqRecord[] = [];
  if (!pending.size) return records;

  const consumer = kafka.consumer({ groupId: `${DLQ_READER_GROUP_PREFIX}${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPICS.notificationDlq, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DLQ not read within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            if (BigInt(message.offset) < (end.get(partition) ?? 0n)) {
              const raw = message.value?.toString('utf8') ?? '';
              let record: DlqRecord = {
                partition,
                offset: message.offset,
                key: message.key?.toString('utf8') ?? null,
                entry: null,
              };
              try {
                const parsed = notificationDlqEntry.safeParse(JSON.parse(raw));
                record = parsed.success
                  ? { ...record, entry: parsed.data }
                  : { ...record, unreadable: parsed.error.message };
              } catch (err) {
                record.unreadable = (err as Error).message;
              }
              records.push(record);
            }
            if (BigInt(message.offset) + 1n >= (end.get(partition) ?? 0n)) pending.delete(partition);
            if (!pending.size) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
