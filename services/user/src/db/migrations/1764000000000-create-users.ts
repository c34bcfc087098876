import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1764000000000 implements MigrationInterface {
  name = 'CreateUsers1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE CHECK (email = lower(btrim(email))),
        name text NOT NULL,
        password_hash text NOT NULL,
        stripe_customer_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE payment_methods (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        stripe_customer_id text NOT NULL,
        stripe_payment_method_id text NOT NULL,
        brand text NOT NULL,
        last4 char(4) NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
        exp_month smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
        exp_year smallint NOT NULL,
        is_default boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, stripe_payment_method_id)
      )`);
    // At most one default card per user; the payment service charges that one.
    await q.query(
      `CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (user_id) WHERE is_default`,
    );
    // Failed sign-in counters per email and per client address, shared by every replica.
    await q.query(`
      CREATE TABLE signin_failures (
        key text PRIMARY KEY,
        failures integer NOT NULL,
        window_started_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE signin_failures`);
    await q.query(`DROP TABLE payment_methods`);
    await q.query(`DROP TABLE users`);
  }
}
