import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capture later and disputes: how the order is captured (`automatic` at once, `manual` by an operator after
 * an authorization), what was captured (less than the amount after a partial capture; refunds count against
 * it), and the statuses `authorized`, `disputed`, `dispute_won`, `dispute_lost` (domain/order-status.ts).
 * `deferred_payment_events`: events that arrived before the order could take them (a refund or a dispute
 * before the payment's `succeeded`), applied when it can.
 */
export class CaptureAndDisputes1764500000000 implements MigrationInterface {
  name = 'CaptureAndDisputes1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    await q.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending', 'requires_action',
        'authorized', 'paid', 'failed', 'cancelled', 'partially_refunded', 'refunded', 'disputed', 'dispute_won',
        'dispute_lost'))`,
    );
    await q.query(`ALTER TABLE orders ADD COLUMN capture_method text NOT NULL DEFAULT 'automatic'
      CHECK (capture_method IN ('automatic', 'manual'))`);
    await q.query(`ALTER TABLE orders ADD COLUMN captured_amount integer
      CHECK (captured_amount > 0 AND captured_amount <= amount)`);
    await q.query(`
      CREATE TABLE deferred_payment_events (
        event_id uuid PRIMARY KEY,
        order_id uuid NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX deferred_payment_events_order ON deferred_payment_events (order_id, received_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE deferred_payment_events`);
    await q.query(`ALTER TABLE orders DROP COLUMN captured_amount`);
    await q.query(`ALTER TABLE orders DROP COLUMN capture_method`);
    await q.query(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    await q.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN
        ('pending', 'requires_action', 'paid', 'failed', 'cancelled', 'partially_refunded', 'refunded'))`,
    );
  }
}
