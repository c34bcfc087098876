import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole payment lifecycle's statuses (domain/order-status.ts), the amount refunded so far, what the
 * customer must do while the payment waits for 3-D Secure, and the index behind a customer's order
 * history (newest first, keyset on created_at, id).
 */
export class OrderLifecycle1764200000000 implements MigrationInterface {
  name = 'OrderLifecycle1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check`);
    await q.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN
        ('pending', 'requires_action', 'paid', 'failed', 'cancelled', 'partially_refunded', 'refunded'))`,
    );
    await q.query(`ALTER TABLE orders ADD COLUMN refunded_amount integer NOT NULL DEFAULT 0
      CHECK (refunded_amount >= 0 AND refunded_amount <= amount)`);
    await q.query(`ALTER TABLE orders ADD COLUMN next_action jsonb`);
    await q.query(`CREATE INDEX orders_history ON orders (user_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX orders_history`);
    await q.query(`ALTER TABLE orders DROP COLUMN next_action`);
    await q.query(`ALTER TABLE orders DROP COLUMN refunded_amount`);
    await q.query(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    await q.query(
      `ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'failed'))`,
    );
  }
}
