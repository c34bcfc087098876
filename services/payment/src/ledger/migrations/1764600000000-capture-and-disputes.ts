import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capture later and disputes in the ledger:
 * - `payments.capture_method` (`manual`: authorized, then captured by an operator) and the status
 *   `authorized` (open: the amount is held on the card, nothing is taken).
 * - the movement `released`: what of an authorization was never taken (the rest of a partial capture, a void,
 *   a lapse), keyed by the Stripe object that released it.
 * - `disputes`: one row per Stripe dispute, its status as last read; the money it moved is in the movements
 *   (`dispute_withdrawn`, `dispute_reinstated`, keyed by the dispute id).
 */
export class CaptureAndDisputes1764600000000 implements MigrationInterface {
  name = 'CaptureAndDisputes1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payments ADD COLUMN capture_method text NOT NULL DEFAULT 'automatic'
      CHECK (capture_method IN ('automatic', 'manual'))`);
    // The capture request that took the money: the same request asked again answers the same capture.
    await q.query(`ALTER TABLE payments ADD COLUMN capture_request_id text`);
    await q.query(`ALTER TABLE payments DROP CONSTRAINT payments_status_check`);
    await q.query(`ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN
      ('claimed', 'intent_created', 'requires_action', 'authorized', 'succeeded', 'failed', 'cancelled'))`);
    await q.query(`ALTER TABLE payment_movements DROP CONSTRAINT payment_movements_kind_check`);
    await q.query(`ALTER TABLE payment_movements ADD CONSTRAINT payment_movements_kind_check CHECK (kind IN
      ('authorized', 'charged', 'captured', 'released', 'refunded', 'dispute_withdrawn', 'dispute_reinstated'))`);
    await q.query(`
      CREATE TABLE disputes (
        dispute_id text PRIMARY KEY,
        order_id text NOT NULL,
        payment_intent_id text NOT NULL,
        status text NOT NULL,
        reason text NOT NULL,
        amount bigint NOT NULL,
        currency text NOT NULL,
        evidence_due_by timestamptz,
        opened_at timestamptz NOT NULL,
        closed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX disputes_order ON disputes (order_id)`);
    await q.query(`CREATE INDEX disputes_open ON disputes (evidence_due_by) WHERE closed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE disputes`);
    await q.query(`ALTER TABLE payment_movements DROP CONSTRAINT payment_movements_kind_check`);
    await q.query(`ALTER TABLE payment_movements ADD CONSTRAINT payment_movements_kind_check CHECK (kind IN
      ('authorized', 'charged', 'captured', 'refunded', 'dispute_withdrawn', 'dispute_reinstated'))`);
    await q.query(`ALTER TABLE payments DROP CONSTRAINT payments_status_check`);
    await q.query(`ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN
      ('claimed', 'intent_created', 'requires_action', 'succeeded', 'failed', 'cancelled'))`);
    await q.query(`ALTER TABLE payments DROP COLUMN capture_request_id`);
    await q.query(`ALTER TABLE payments DROP COLUMN capture_method`);
  }
}
