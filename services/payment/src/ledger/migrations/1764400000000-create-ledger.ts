import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payment ledger: what Paystream asked of Stripe and what Stripe did, kept for as long as the money
 * matters (Temporal's histories and Stripe's idempotency keys both expire; this does not).
 * - `payments`: one row per order — the claim that gates every charge, the one intent, the outcome.
 * - `payment_movements`: append-only money movements, unique per (kind, Stripe object), so a retried
 *   activity or a second reader records nothing twice. A trigger refuses UPDATE, DELETE and TRUNCATE.
 * - `drift`: what reconciliation found and could not heal, once per (kind, Stripe object); an operator
 *   resolves it with a reason, and a resolved finding stays resolved.
 * - `ledger_epoch`: when the ledger began. An order created before it has no claim of its own, so its first
 *   claim asks the order service whether it was settled already (see Ledger.epoch).
 */
export class CreateLedger1764400000000 implements MigrationInterface {
  name = 'CreateLedger1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        order_id text PRIMARY KEY,
        user_id text NOT NULL,
        amount bigint NOT NULL,
        currency text NOT NULL,
        payment_intent_id text UNIQUE,
        status text NOT NULL DEFAULT 'claimed'
          CHECK (status IN ('claimed', 'intent_created', 'requires_action', 'succeeded', 'failed', 'cancelled')),
        captured_amount bigint NOT NULL DEFAULT 0,
        refunded_amount bigint NOT NULL DEFAULT 0,
        failure_reason text,
        outcome_event_id uuid,
        outcome_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX payments_open ON payments (updated_at) WHERE status IN ('claimed', 'intent_created', 'requires_action')`,
    );
    await q.query(`CREATE INDEX payments_outcome_at ON payments (outcome_at) WHERE outcome_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE payment_movements (
        id bigserial PRIMARY KEY,
        order_id text NOT NULL,
        kind text NOT NULL
          CHECK (kind IN ('authorized', 'charged', 'captured', 'refunded', 'dispute_withdrawn', 'dispute_reinstated')),
        stripe_object_id text NOT NULL,
        amount bigint NOT NULL,
        currency text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, stripe_object_id)
      )`);
    await q.query(`CREATE INDEX payment_movements_order ON payment_movements (order_id)`);
    await q.query(`
      CREATE FUNCTION payment_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'payment_movements is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER payment_movements_no_change BEFORE UPDATE OR DELETE ON payment_movements
        FOR EACH ROW EXECUTE FUNCTION payment_movements_append_only()`);
    await q.query(`
      CREATE TRIGGER payment_movements_no_truncate BEFORE TRUNCATE ON payment_movements
        FOR EACH STATEMENT EXECUTE FUNCTION payment_movements_append_only()`);
    await q.query(`
      CREATE TABLE drift (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        order_id text,
        stripe_object_id text NOT NULL,
        ledger_amount bigint,
        stripe_amount bigint,
        currency text,
        detail text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolution text,
        UNIQUE (kind, stripe_object_id)
      )`);
    await q.query(`CREATE INDEX drift_open ON drift (first_seen_at) WHERE resolved_at IS NULL`);
    await q.query(`CREATE TABLE ledger_epoch (started_at timestamptz NOT NULL)`);
    await q.query(`INSERT INTO ledger_epoch VALUES (now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ledger_epoch`);
    await q.query(`DROP TABLE drift`);
    await q.query(`DROP TABLE payment_movements`);
    await q.query(`DROP FUNCTION payment_movements_append_only`);
    await q.query(`DROP TABLE payments`);
  }
}
