import { loggableError } from '@paystream/common/http';
import { contextFromKafka, messagingAttributes } from '@paystream/common/kafka';
import { type Logger } from '@paystream/common/logger';
import { metrics } from '@paystream/common/metrics';
import { SpanKind, traceHeaders, tracing } from '@paystream/common/tracing';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Publishes outbox rows to Kafka, oldest first, and marks them published.
 *
 * Why polling with `FOR UPDATE SKIP LOCKED`, woken by LISTEN/NOTIFY: the rows are the source of truth,
 * so a relay that crashes, restarts or misses a notification loses nothing — the next poll finds the
 * rows still unpublished. SKIP LOCKED lets several replicas share the work without publishing a row
 * twice at the same time. NOTIFY only shortens the wait (an order's event leaves within milliseconds
 * instead of at the next poll). An order has exactly one event, so no two events of one order can be
 * reordered; a batch is sent in id order to each order's partition (key = orderId).
 *
 * A crash between the Kafka ack and the UPDATE republishes the batch: delivery is at-least-once and
 * the consumers dedupe (workflow id per order, processed event ids).
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  private listener: Client | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly opts: { databaseUrl: string; batchSize?: number; idlePollMs?: number },
  ) {}

  async start(): Promise<void> {
    this.running = true;
    await this.listen();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  /** One pass: publish up to a batch; returns how many rows went out. */
  async publishBatch(): Promise<number> {
    const batchSize = this.opts.batchSize ?? 200;
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<
        {
          id: string;
          topic: string;
          message_key: string;
          payload: unknown;
          headers: Record<string, string>;
        }[]
      >(
        `SELECT id, topic, message_key, payload, headers FROM outbox WHERE published_at IS NULL
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (!rows.length) return 0;
      // One producer span per row, child of the request that wrote it, so the trace goes on into Kafka.
      const sends = rows.map((row) => ({
        row,
        span: tracing().tracer.startSpan(
          `${row.topic} publish`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { ...messagingAttributes(row.topic, row.message_key), 'paystream.outbox_id': row.id },
          },
          contextFromKafka(row.headers),
        ),
      }));
      const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
      for (const { row, span } of sends) {
        const messages = byTopic.get(row.topic) ?? [];
        messages.push({
          key: row.message_key,
          value: JSON.stringify(row.payload),
          headers: { ...traceHeaders(trace.setSpan(ROOT_CONTEXT, span)), 'outbox-id': row.id },
        });
        byTopic.set(row.topic, messages);
      }
      try {
        await this.producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
      } finally {
        for (const { span } of sends) span.end();
      }
      for (const [topic, messages] of byTopic)
        metrics.kafkaMessages.inc({ topic, direction: 'produced', result: 'ok' }, messages.length);
      await tx.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    const batchSize = this.opts.batchSize ?? 200;
    let failures = 0;
    while (this.running) {
      try {
        const sent = await this.publishBatch();
        failures = 0;
        if (sent > 0) this.logger.debug({ sent }, 'outbox published');
        if (sent >= batchSize) continue; // more waiting: no pause
        await this.sleep(this.opts.idlePollMs ?? 1000);
      } catch (err) {
        // Kafka or Postgres away: the rows stay unpublished; back off and try again.
        failures++;
        this.logger.warn({ err: loggableError(err), failures }, 'outbox relay pass failed');
        await this.sleep(Math.min(200 * 2 ** failures, 5000));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** A dedicated connection for LISTEN; if it drops, polling carries on and it reconnects. */
  private async listen(): Promise<void> {
    if (!this.running) return;
    const client = new Client({ connectionString: this.opts.databaseUrl });
    client.on('notification', () => this.wake?.());
    client.on('error', (err) => {
      this.logger.warn(
        { err: loggableError(err) },
        'outbox LISTEN connection lost; polling until it is back',
      );
      this.listener = undefined;
      setTimeout(() => void this.listen().catch(() => undefined), 2000).unref();
    });
    try {
      await client.connect();
      await client.query('LISTEN outbox');
      this.listener = client;
    } catch (err) {
      this.logger.warn({ err: loggableError(err) }, 'outbox LISTEN failed; polling only');
      await client.end().catch(() => undefined);
      setTimeout(() => void this.listen().catch(() => undefined), 2000).unref();
    }
  }
}
