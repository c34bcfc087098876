import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { signUserToken } from '@paystream/common/auth';
import { problems } from '@paystream/common/problem';
import type { DataSource, EntityManager } from 'typeorm';

/** What is kept of a bearer secret: its SHA-256 (the secret is shown once and kept nowhere). */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
export const newSecret = () => randomBytes(32).toString('base64url');

/**
 * OWASP's device cookie, as a token the client keeps: the account it signed in to and a nonce, HMAC-signed.
 * Presented with a sign-in to the same account, it marks a device that signed in before: its attempts are
 * counted on their own (a handful), not against the account's budget for unknown devices that an attacker
 * spends. Nothing is stored: a token is as good as its signature.
 */
export class DeviceTokens {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('paystream device token v1').digest();
  }

  issue(email: string): string {
    const body = Buffer.from(`${email}\n${randomBytes(16).toString('base64url')}`).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The token's nonce when it is ours and was issued for `email`; otherwise undefined (an unknown device). */
  nonceFor(token: string | undefined, email: string): string | undefined {
    const [body, mac] = (token ?? '').split('.');
    if (!body || !mac) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const [forEmail, nonce] = Buffer.from(body, 'base64url').toString().split('\n');
    return forEmail === email ? nonce : undefined;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

export interface SessionTimes {
  accessSeconds: number;
  refreshDays: number;
}

export interface Session {
  token: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  userId: string;
}

/**
 * Sessions: a short access token the gateway verifies on its own, and a refresh token that rotates. Each
 * refresh uses its token once and gets the next in the same family; a used token presented again means it
 * was copied, so the whole family is revoked (the thief's and the owner's) and both must sign in again.
 */
export class Sessions {
  constructor(
    private readonly db: DataSource,
    private readonly jwtSecret: string,
    private readonly times: SessionTimes,
  ) {}

  /** A new family (a sign-in). */
  start(userId: string): Promise<Session> {
    return this.issue(this.db.manager, userId, randomUUID());
  }

  /** The next session of a refresh token's family; 401 for an unknown, expired, revoked or reused one. */
  async refresh(refreshToken: string): Promise<Session> {
    const next = await this.db.transaction(async (tx) => {
      // An UPDATE … RETURNING answers [rows, count] through TypeORM.
      const [used] = await tx.query<[{ user_id: string; family_id: string }[], number]>(
        `UPDATE refresh_tokens SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING user_id, family_id`,
        [tokenHash(refreshToken)],
      );
      if (used[0]) return this.issue(tx, used[0].user_id, used[0].family_id);
      // Not usable: if it was ever issued and used, someone replays it — the family ends now.
      await tx.query(
        `UPDATE refresh_tokens SET revoked_at = now()
          WHERE revoked_at IS NULL AND family_id =
            (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL)`,
        [tokenHash(refreshToken)],
      );
      return undefined; // committed: the revocation stands
    });
    if (!next) throw problems.unauthorized('Invalid refresh token; sign in again');
    return next;
  }

  /** Signs out the family of `refreshToken` (this device); unknown tokens change nothing. */
  async end(refreshToken: string): Promise<void> {
    await this.db.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
      [tokenHash(refreshToken)],
    );
  }

  /** Signs out everywhere: every refresh token of the user (access tokens end within ACCESS_TOKEN_SECONDS). */
  async endAll(userId: string, tx: EntityManager = this.db.manager): Promise<void> {
    await tx.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [
      userId,
    ]);
  }

  private async issue(tx: EntityManager, userId: string, familyId: string): Promise<Session> {
    const refreshToken = newSecret();
    await tx.query(
      `INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(days => $4))`,
      [tokenHash(refreshToken), familyId, userId, this.times.refreshDays],
    );
    return {
      token: signUserToken(this.jwtSecret, userId, this.times.accessSeconds),
      tokenType: 'Bearer',
      expiresIn: this.times.accessSeconds,
      refreshToken,
      userId,
    };
  }
}
