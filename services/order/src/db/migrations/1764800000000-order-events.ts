import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `order_events`: each step an order took (the payment.event that moved it), in the transaction that moved it —
 * the order's story for the operator's timeline and the per-minute outcomes of the console's chart. Each is
 * also an `order.event` in the outbox, for the merchant's event feed. `orders_admin_search` serves the
 * operator's search by status and date.
 */
export class OrderEvents1764800000000 implements MigrationInterface {
  name = 'OrderEvents1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE order_events (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        order_id uuid NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX order_events_order ON order_events (order_id, id)`);
    await q.query(`CREATE INDEX order_events_at ON order_events (at)`);
    await q.query(`CREATE INDEX orders_admin_search ON orders (status, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX orders_admin_search`);
    await q.query(`DROP TABLE order_events`);
  }
}
