import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The operator API's keys and audit log:
 * - `api_keys`: one row per key — a name, its scopes, the SHA-256 of its secret (the key itself is shown once,
 *   at creation, and kept nowhere), when it was revoked and last used.
 * - `audit_log`: every operator action and every key created or revoked, append-only (a trigger refuses
 *   UPDATE, DELETE and TRUNCATE), one row per action (`entry_id`: a retried request records nothing twice).
 */
export class Operators1764700000000 implements MigrationInterface {
  name = 'Operators1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{12}$'),
        name text NOT NULL,
        scopes text[] NOT NULL,
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        entry_id text NOT NULL UNIQUE,
        at timestamptz NOT NULL DEFAULT now(),
        key_id text NOT NULL,
        key_name text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        reason text,
        request_id text,
        outcome text NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_log_target ON audit_log (target, id)`);
    await q.query(`CREATE INDEX audit_log_key ON audit_log (key_id, id)`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only`);
    await q.query(`DROP TABLE api_keys`);
  }
}
