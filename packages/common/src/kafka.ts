import fs from 'node:fs';
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { ZodType } from 'zod';
import { devKafkaPassword, type Config } from './config';
import type { Logger } from './logger';
import { TOPICS, type ParkedMessage } from './events';
import { loggableError } from './http';
import { Gauge } from 'prom-client';
import { metrics, registry } from './metrics';
import type { ServiceRuntime } from './runtime';
import { propagation, ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api';
import { inSpan, SpanKind, traceHeaders, withLogFields } from './tracing';

/** The settings a Kafka client reads (a Config satisfies it). */
export type KafkaSettings = Pick<
  Config,
  | 'KAFKA_BROKERS'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_USERNAME'
  | 'KAFKA_PASSWORD'
  | 'KAFKA_SSL'
  | 'KAFKA_SSL_CA_FILE'
>;

/** The principal tools and tests use on the local stack: a super user (it creates topics and ACLs). */
export const KAFKA_ADMIN_PRINCIPAL = 'admin';

/**
 * A Kafka client authenticated as `principal` (a service's name; the admin for tools and tests), unless
 * KAFKA_USERNAME names another. SASL over TLS when KAFKA_SSL is set.
 */
export function createKafka(
  clientId: string,
  cfg: KafkaSettings,
  opts: { principal?: string; logger?: Logger | undefined } = {},
): Kafka {
  const { logger } = opts;
  const username = cfg.KAFKA_USERNAME ?? opts.principal ?? KAFKA_ADMIN_PRINCIPAL;
  const password = cfg.KAFKA_PASSWORD ?? devKafkaPassword(username);
  const mechanism = cfg.KAFKA_SASL_MECHANISM;
  return new Kafka({
    clientId,
    brokers: cfg.KAFKA_BROKERS,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, retries: 8 },
    ...(mechanism === 'none' ? {} : { sasl: { mechanism, username, password } as SASLOptions }),
    ...(cfg.KAFKA_SSL
      ? { ssl: cfg.KAFKA_SSL_CA_FILE ? { ca: [fs.readFileSync(cfg.KAFKA_SSL_CA_FILE, 'utf8')] } : true }
      : {}),
    // kafkajs' own logs go through pino so they are structured like ours.
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      if (!logger) return;
      const { message, ...rest } = entry.log;
      const level = entry.level <= logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'info';
      logger[level]({ kafka: rest, namespace: entry.namespace }, message);
    },
  });
}

/** Idempotent producer: broker-side dedupe of retried sends, acks from all in-sync replicas. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
}

/** Sends one JSON message in a producer span; the trace context travels in the message's headers. */
export async function publishJson(
  producer: Producer,
  topic: string,
  key: string,
  value: unknown,
  headers: IHeaders = {},
): Promise<void> {
  await inSpan(
    `${topic} publish`,
    { kind: SpanKind.PRODUCER, attributes: messagingAttributes(topic, key) },
    async () => {
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key, value: JSON.stringify(value), headers: { ...headers, ...traceHeaders() } }],
        });
        metrics.kafkaMessages.inc({ topic, direction: 'produced', result: 'ok' });
      } catch (err) {
        metrics.kafkaMessages.inc({ topic, direction: 'produced', result: 'failed' });
        throw err;
      }
    },
  );
}

/** Span attributes of a Kafka message (the key is the order id on every Paystream topic). */
export function messagingAttributes(topic: string, key: string | undefined) {
  return {
    'messaging.system': 'kafka',
    'messaging.destination.name': topic,
    ...(key ? { 'messaging.kafka.message.key': key } : {}),
  };
}

/** Create missing topics; existing ones are left as they are. */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  numPartitions = 3,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

export interface InvalidMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
  reason: string;
}

export interface JsonConsumerOptions<T> {
  consumer: Consumer;
  topic: string;
  groupId: string;
  schema: ZodType<T>;
  logger: Logger;
  /** Runs for each valid message; throwing leaves the offset uncommitted so the message is redelivered. */
  handle: (value: T, message: KafkaMessage, partition: number) => Promise<void>;
  /** Where a message that fails parsing/validation goes; it must not throw for the partition to move on. */
  onInvalid: (invalid: InvalidMessage) => Promise<void>;
  /** Where a new consumer group starts: the whole topic (default, nothing is missed) or only new messages. */
  fromBeginning?: boolean | undefined;
}

/**
 * At-least-once consumption: the offset is committed only after `handle` succeeds, so a crash
 * re-delivers rather than drops. A message that can never be valid is handed to `onInvalid` and
 * committed, so one bad message never blocks its partition; so is one whose handler keeps failing (POISON).
 */
export async function runJsonConsumer<T>(opts: JsonConsumerOptions<T>): Promise<void> {
  const { consumer, topic, logger } = opts;
  // kafkajs restarts a consumer after a retriable crash only. A non-retriable one (a commit refused
  // with UNKNOWN_MEMBER_ID after a broker restart, say) leaves it stopped while the process looks
  // healthy — the partition would never move again. Start it again ourselves, backing off while
  // Kafka is away. Found by the chaos suite's Kafka restart.
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    logger.error(
      { err: loggableError(payload.error), topic },
      'Kafka consumer stopped after a crash; starting it again',
    );
    void restartAfter(1000);
  });
  const restartAfter = async (ms: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, ms));
    try {
      await consumer.disconnect().catch(() => undefined);
      await start();
      logger.info({ topic }, 'Kafka consumer running again');
    } catch (err) {
      logger.warn({ err: loggableError(err), topic }, 'Kafka consumer restart failed; trying again');
      await restartAfter(Math.min(ms * 2, 15_000));
    }
  };
  const start = async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Each partition's batch in parallel with the others; inside one, keys side by side (processJsonBatch).
      partitionsConsumedConcurrently: 3,
      eachBatch: async (payload) => {
        const { batch } = payload;
        await processJsonBatch(
          {
            ...opts,
            groupId: opts.groupId,
            around: traced,
            heartbeat: () => payload.heartbeat(),
            isRunning: () => payload.isRunning() && !payload.isStale(),
            commit: async (offsets, settled) => {
              await consumer.commitOffsets(offsets);
              for (const offset of settled) payload.resolveOffset(offset);
            },
          },
          batch.topic,
          batch.partition,
          batch.messages,
        );
        await payload.heartbeat();
      },
    });
  };
  await start();
}

/** Continues the producer's trace around one message; every log line of it carries its order id. */
function traced(topic: string, message: KafkaMessage, fn: () => Promise<void>): Promise<void> {
  const key = message.key?.toString('utf8');
  return inSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromKafka(message.headers),
      attributes: { ...messagingAttributes(topic, key), 'messaging.kafka.offset': message.offset },
    },
    () => withLogFields(key ? { orderId: key } : {}, fn),
  );
}

/** A message's value checked against `schema`: the value, or why it can never be valid. */
export function decodeJsonMessage<T>(
  schema: ZodType<T>,
  raw: string,
): { ok: true; value: T } | { ok: false; reason: string } {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    if (parsed.success) return { ok: true, value: parsed.data };
    return {
      ok: false,
      reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    };
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
}

export interface MessageSteps<T> extends Pick<
  JsonConsumerOptions<T>,
  'schema' | 'logger' | 'handle' | 'onInvalid'
> {
  /** Commits offsets (the consumer's `commitOffsets`); `settled` are the offsets of the messages it covers. */
  commit: (
    offsets: { topic: string; partition: number; offset: string }[],
    settled: string[],
  ) => Promise<void>;
  /** Runs around each message (the consumer's trace span and log fields). */
  around?: (topic: string, message: KafkaMessage, fn: () => Promise<void>) => Promise<void>;
  /**
   * kafkajs heartbeats only between batches: called after each message (it throttles itself) so a long batch
   * keeps the member in its group; it throws when the group is rebalancing, which ends the batch early.
   */
  heartbeat?: () => Promise<void>;
  /** False once the consumer is stopping: no new key is started, the settled prefix is committed. */
  isRunning?: () => boolean;
  /** When a message whose handler keeps failing is parked (POISON by default). */
  poison?: PoisonPolicy;
  /** The consumer group, for the failure counts (two groups of one process may read the same topic). */
  groupId?: string;
}

/**
 * A message whose handler throws is delivered again, and its partition waits: right for an outage (Temporal,
 * Postgres or a service away for a while), wrong for a message that fails whatever happens (a bug, a row it
 * can never satisfy) — that one would stop its partition for ever. So a message that failed `attempts` times
 * over at least `minSeconds` is parked with its last error, and the partition moves on. `minSeconds` is longer
 * than the outages the chaos suite plays (a server restarted: seconds): an outage parks nothing.
 */
export interface PoisonPolicy {
  attempts: number;
  minSeconds: number;
}
export const POISON: PoisonPolicy = { attempts: 10, minSeconds: 300 };

/** Failures of the messages being retried, per group, topic, partition and offset (this process's view). */
const failing = new Map<string, { count: number; since: number }>();

const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();

/**
 * What must happen to one message before its offset may be committed: a valid one is handled; one that
 * can never be valid goes to `onInvalid` (parked). When `handle` or `onInvalid` throws, it propagates.
 */
async function settleJsonMessage<T>(
  steps: MessageSteps<T>,
  topic: string,
  partition: number,
  message: KafkaMessage,
): Promise<void> {
  const settle = async () => {
    const decoded = decodeJsonMessage(steps.schema, message.value?.toString('utf8') ?? '');
    if (!decoded.ok) {
      const { reason } = decoded;
      steps.logger.warn({ topic, partition, offset: message.offset, reason }, 'parking invalid message');
      await steps.onInvalid({ topic, partition, message, reason });
      metrics.kafkaMessages.inc({ topic, direction: 'consumed', result: 'invalid' });
      return;
    }
    const id = `${steps.groupId ?? ''}|${topic}|${partition}|${message.offset}`;
    try {
      await steps.handle(decoded.value, message, partition);
    } catch (err) {
      metrics.kafkaMessages.inc({ topic, direction: 'consumed', result: 'failed' });
      const { attempts, minSeconds } = steps.poison ?? POISON;
      const seen = failing.get(id) ?? { count: 0, since: Date.now() };
      seen.count += 1;
      failing.set(id, seen);
      if (seen.count < attempts || Date.now() - seen.since < minSeconds * 1000) throw err;
      const reason =
        `the handler failed ${seen.count} times over ${Math.round((Date.now() - seen.since) / 1000)} s: ${
          (err as Error).message
        }`.slice(0, 1000);
      steps.logger.error(
        { topic, partition, offset: message.offset, reason },
        'parking a message that keeps failing',
      );
      await steps.onInvalid({ topic, partition, message, reason });
      failing.delete(id);
      metrics.kafkaMessages.inc({ topic, direction: 'consumed', result: 'poisoned' });
      return;
    }
    failing.delete(id);
    metrics.kafkaMessages.inc({ topic, direction: 'consumed', result: 'ok' });
  };
  await (steps.around ? steps.around(topic, message, settle) : settle());
}

/**
 * One message: settled (handled, or parked when it can never be valid), then its offset committed; when
 * `handle` or `onInvalid` throws nothing is committed and the error propagates, so it is delivered again.
 */
export async function processJsonMessage<T>(
  steps: MessageSteps<T>,
  topic: string,
  partition: number,
  message: KafkaMessage,
): Promise<void> {
  await settleJsonMessage(steps, topic, partition, message);
  await steps.commit([{ topic, partition, offset: nextOffset(message.offset) }], [message.offset]);
}

/**
 * A fetched batch of one partition, with one commit instead of one per message. Messages with the same
 * key (one order) are settled one after another in offset order; different keys side by side, at most
 * `concurrency` at a time. If one fails, only the offsets before the first unsettled message are
 * committed and the error propagates: the rest is delivered again, which the handlers' idempotence
 * (event ids, workflow ids) absorbs — at-least-once, with per-order ordering kept.
 */
export async function processJsonBatch<T>(
  steps: MessageSteps<T>,
  topic: string,
  partition: number,
  messages: KafkaMessage[],
  concurrency = 16,
): Promise<void> {
  const byKey = new Map<string, KafkaMessage[]>();
  for (const m of messages) {
    const key = m.key?.toString('utf8') ?? `offset:${m.offset}`;
    const queue = byKey.get(key);
    if (queue) queue.push(m);
    else byKey.set(key, [m]);
  }
  const queues = [...byKey.values()];
  const settled = new Set<string>();
  let failure: { err: unknown } | undefined;
  let next = 0;
  const running = () => !failure && (steps.isRunning?.() ?? true);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queues.length) }, async () => {
      while (next < queues.length && running()) {
        for (const m of queues[next++]!) {
          try {
            await settleJsonMessage(steps, topic, partition, m);
            settled.add(m.offset);
            await steps.heartbeat?.();
          } catch (err) {
            failure ??= { err };
            break; // the rest of this key waits for the redelivery, in order
          }
        }
      }
    }),
  );
  const prefix: string[] = [];
  for (const m of messages) {
    if (!settled.has(m.offset)) break;
    prefix.push(m.offset);
  }
  const last = prefix[prefix.length - 1];
  if (last !== undefined) await steps.commit([{ topic, partition, offset: nextOffset(last) }], prefix);
  if (failure) throw failure.err;
}

/** Default parking: the raw message and the reason go to `paystream.parked` for an operator. */
export function parkTo(producer: Producer, consumerGroup: string) {
  return async ({ topic, partition, message, reason }: InvalidMessage): Promise<void> => {
    const parked: ParkedMessage = {
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8') ?? null,
      value: message.value?.toString('utf8') ?? null,
      consumerGroup,
      reason,
      parkedAt: new Date().toISOString(),
    };
    await publishJson(
      producer,
      TOPICS.parked,
      parked.key ?? `${topic}-${partition}-${message.offset}`,
      parked,
    );
  };
}

/** Messages on `topic` that consumer group `groupId` has not committed yet (a group with no offsets: all). */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.reduce((sum, end) => {
    const c = committed?.partitions.find((p) => p.partition === end.partition);
    const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
    return sum + Math.max(0, Number(end.high) - at);
  }, 0);
}

/** Messages a topic holds now (end minus start offset, over its partitions): the DLQ's and the parked topic's size. */
export async function topicMessages(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Number(p.low)), 0);
}

const kafkaHeaders: TextMapGetter<IHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerString(carrier, key),
};

/** The trace context a Kafka message (or an outbox row's headers) carries; the root context if none. */
export function contextFromKafka(headers: IHeaders | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, kafkaHeaders);
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

export interface KafkaParts {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
}

/** A Kafka client with a connected admin (health, lag) and an idempotent producer. */
export async function kafkaParts(svc: ServiceRuntime): Promise<KafkaParts> {
  const kafka = createKafka(svc.name, svc.cfg, { principal: svc.name, logger: svc.logger });
  const admin = await svc.part(
    'kafka admin',
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      return admin;
    },
    (admin) => admin.disconnect(),
  );
  const producer = await svc.part(
    'kafka producer',
    async () => {
      const producer = createProducer(kafka);
      await producer.connect();
      return producer;
    },
    (producer) => producer.disconnect(),
  );
  return { kafka, admin, producer };
}

/**
 * `kafka_consumer_lag{group}`: messages each of the service's consumer groups has not consumed yet, read at
 * scrape time (a service may run more than one group: the notifier's emails and its webhooks).
 */
let lagGauge: { groups: Map<string, () => Promise<number>> } | undefined;
function consumerLagGauge() {
  if (lagGauge) return lagGauge;
  const groups = new Map<string, () => Promise<number>>();
  new Gauge({
    name: 'kafka_consumer_lag',
    help: 'Messages of its topic a consumer group has not consumed (-1: could not be read)',
    labelNames: ['group'] as const,
    registers: [registry],
    async collect() {
      for (const [group, read] of groups) this.set({ group }, await read().catch(() => -1));
    },
  });
  lagGauge = { groups };
  return lagGauge;
}

/**
 * A consumer group on one topic, its lag exported as `kafka_consumer_lag{group}`; `run` subscribes and
 * starts it (the services' `consume…` functions). Stopping disconnects, so the group rebalances at once.
 */
export function consumerPart(
  svc: ServiceRuntime,
  kafka: KafkaParts,
  opts: { groupId: string; topic: string; run: (consumer: Consumer) => Promise<void> },
): Promise<Consumer> {
  consumerLagGauge().groups.set(opts.groupId, () => consumerLag(kafka.admin, opts.groupId, opts.topic));
  return svc.part(
    `consumer ${opts.groupId}`,
    async () => {
      const consumer = kafka.kafka.consumer({ groupId: opts.groupId, sessionTimeout: 15_000 });
      await opts.run(consumer);
      return consumer;
    },
    (consumer) => consumer.disconnect(),
  );
}
