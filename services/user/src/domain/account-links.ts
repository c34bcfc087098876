import { createHash } from 'node:crypto';
import { SERVICE_TOKEN_HEADER } from '@paystream/common/auth';
import type { AccountEmailRequest } from '@paystream/common/contracts';
import { type Logger } from '@paystream/common/logger';
import { traceHeaders } from '@paystream/common/tracing';
import type { DataSource, EntityManager } from 'typeorm';
import { newSecret, tokenHash } from './sessions';

export type LinkPurpose = 'verify_email' | 'reset_password';

/** How long a link works: a day to verify an address, 30 minutes to reset a password (OWASP). */
export const LINK_SECONDS: Record<LinkPurpose, number> = {
  verify_email: 24 * 3600,
  reset_password: 30 * 60,
};

/**
 * Single-use links mailed to an account's address. The token is in the link only; the database keeps its hash.
 * Using one is one UPDATE … WHERE used_at IS NULL: two clicks at once use it once.
 */
export class AccountLinks {
  constructor(
    private readonly db: DataSource,
    private readonly deps: {
      notificationServiceUrl: string;
      serviceToken: string;
      linkUrl: string;
      logger: Logger;
    },
  ) {}

  /** A new link for `purpose`, mailed to the user (through the notification service's retries). */
  async send(userId: string, purpose: LinkPurpose): Promise<void> {
    const token = newSecret();
    await this.db.query(
      `INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [tokenHash(token), userId, purpose, LINK_SECONDS[purpose]],
    );
    const fragment = purpose === 'verify_email' ? 'verify' : 'reset';
    await this.mail({ kind: purpose, userId, link: `${this.deps.linkUrl}#${fragment}=${token}` }, token);
  }

  /** Tells the owner of an address that someone tried to sign up with it (no link: sign in, or reset). */
  async accountExists(userId: string): Promise<void> {
    await this.mail({ kind: 'account_exists', userId }, `${userId}:${Math.floor(Date.now() / 60_000)}`);
  }

  /** The user id a valid, unused, unexpired link of `purpose` belongs to, marking it used; else undefined. */
  async use(
    token: string,
    purpose: LinkPurpose,
    tx: EntityManager = this.db.manager,
  ): Promise<string | undefined> {
    // An UPDATE … RETURNING answers [rows, count] through TypeORM.
    const [rows] = await tx.query<[{ user_id: string }[], number]>(
      `UPDATE account_tokens SET used_at = now()
        WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING user_id`,
      [tokenHash(token), purpose],
    );
    return rows[0]?.user_id;
  }

  /**
   * Asks the notification service for the email. A failure is logged and not the caller's: the answer to a
   * sign-up or a reset must not depend on it (nor say whether an account exists); asking again sends a new link.
   */
  private async mail(request: Omit<AccountEmailRequest, 'id'>, idSource: string): Promise<void> {
    const id = createHash('sha256').update(`${request.kind}:${idSource}`).digest('hex').slice(0, 32);
    try {
      const res = await fetch(new URL('/internal/account-emails', this.deps.notificationServiceUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SERVICE_TOKEN_HEADER]: this.deps.serviceToken,
          ...traceHeaders(),
        },
        body: JSON.stringify({ id, ...request } satisfies AccountEmailRequest),
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      this.deps.logger.warn(
        { userId: request.userId, kind: request.kind, err: (err as Error).message },
        'account email not requested; the user can ask again',
      );
    }
  }
}
