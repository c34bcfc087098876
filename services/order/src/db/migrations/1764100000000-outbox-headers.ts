import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Kafka headers stored with each outbox row: the W3C trace context of the request that wrote it. */
export class OutboxHeaders1764100000000 implements MigrationInterface {
  name = 'OutboxHeaders1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN headers`);
  }
}
