import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payment events the order service refused (a `succeeded` event whose amount or currency differ from the
 * order): one row per event id, so an operator can list them and a redelivery is neither parked nor
 * counted a second time.
 */
export class RefusedPaymentEvents1764300000000 implements MigrationInterface {
  name = 'RefusedPaymentEvents1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refused_payment_events (
        event_id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        amount bigint NOT NULL,
        currency text NOT NULL,
        refused_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refused_payment_events`);
  }
}
