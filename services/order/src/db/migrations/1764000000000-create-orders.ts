import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrders1764000000000 implements MigrationInterface {
  name = 'CreateOrders1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        amount integer NOT NULL CHECK (amount > 0),
        currency char(3) NOT NULL,
        items jsonb,
        status text NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
        failure_reason text,
        payment_intent_id text,
        idempotency_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX orders_user ON orders (user_id, created_at)`);
    // The same Idempotency-Key from the same user can only ever create one order.
    await q.query(
      `CREATE UNIQUE INDEX orders_idempotency ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        message_key text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL`);
    // payment.event ids already applied: a redelivered event is recognised and changes nothing.
    await q.query(`
      CREATE TABLE processed_events (
        event_id uuid PRIMARY KEY,
        processed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE processed_events`);
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE orders`);
  }
}
