import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts people can recover:
 * - `users.email_verified_at`: set by a verification link or a password reset (both prove the inbox); payment
 *   emails go only to verified addresses. `users.setup_intent_id`: the open SetupIntent a repeated request reuses.
 * - `account_tokens`: single-use links mailed to the owner (verify the address, reset the password), kept as
 *   SHA-256 hashes only, each with its expiry and when it was used.
 * - `refresh_tokens`: one row per refresh token (hash only), in families: a sign-in starts one, each refresh
 *   uses its token and adds the next; a used token presented again revokes its whole family.
 */
export class Accounts1765100000000 implements MigrationInterface {
  name = 'Accounts1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE users ADD COLUMN email_verified_at timestamptz, ADD COLUMN setup_intent_id text`,
    );
    await q.query(`
      CREATE TABLE account_tokens (
        token_hash text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose)`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        family_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE account_tokens`);
    await q.query(`ALTER TABLE users DROP COLUMN email_verified_at, DROP COLUMN setup_intent_id`);
  }
}
