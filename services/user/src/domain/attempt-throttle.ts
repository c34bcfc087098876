import type { DataSource } from 'typeorm';

/**
 * Slows password guessing and mass sign-up. Each attempt is counted BEFORE the password is hashed, in one
 * atomic statement (INSERT … ON CONFLICT … RETURNING), so a parallel burst cannot slip more guesses past
 * the limit than it allows: 30 wrong passwords at once for one account get at most `perAccountAndClient`
 * hashes, the rest a 429. Counters live in Postgres (every replica sees the same) over a fixed window:
 * - sign-ins follow OWASP's device cookie scheme: a device that signed in to the account before (its device
 *   token) has a small budget of its own and is held to nothing else, so an attack on the account never locks
 *   its owner out of a known device; every other attempt counts per (email, client), per client, and per
 *   account over all clients (`perAccountUnknownDevices`: thirty addresses get that many guesses, not thirty
 *   times five). A right password starts the (email, client) and device counters over;
 * - per client: one address guessing across many accounts;
 * - sign-ups per client;
 * - cards added per user and per client (card testing: trying stolen numbers one after another).
 * Table `signin_failures` keeps its name; its rows count attempts.
 */
export interface ThrottleLimits {
  perAccountAndClient: number;
  perClient: number;
  signupsPerClient: number;
  cardsPerUser: number;
  cardsPerClient: number;
  /** Sign-in attempts per account from devices it does not know, over all clients. */
  perAccountUnknownDevices: number;
  /** Sign-in attempts from one known device (past that, it is an unknown device again). */
  perDevice: number;
  /** SetupIntents asked per user and per client (each is a Stripe call and a card-testing chance). */
  setupIntentsPerUser: number;
  setupIntentsPerClient: number;
  /** Password-reset links asked per account and per client. */
  resetsPerAccount: number;
  resetsPerClient: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  perAccountAndClient: 5,
  perClient: 50,
  signupsPerClient: 10,
  cardsPerUser: 5,
  cardsPerClient: 20,
  perAccountUnknownDevices: 10,
  perDevice: 5,
  setupIntentsPerUser: 10,
  setupIntentsPerClient: 30,
  resetsPerAccount: 3,
  resetsPerClient: 10,
  windowSeconds: 15 * 60,
};

export class AttemptThrottle {
  constructor(
    private readonly db: DataSource,
    private readonly limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  /**
   * Counts a sign-in attempt; seconds to wait when it is over a limit (then nothing is hashed), else 0.
   * `device`: the nonce of a valid device token for this account, if one was presented.
   */
  async signin(email: string, client: string, device?: string): Promise<number> {
    if (device && (await this.count([[`signin-device:${email}|${device}`, this.limits.perDevice]])) === 0)
      return 0;
    return this.count([
      [`signin:${email}|${client}`, this.limits.perAccountAndClient],
      [`signin-client:${client}`, this.limits.perClient],
      [`signin-unknown:${email}`, this.limits.perAccountUnknownDevices],
    ]);
  }

  /** The right password: this account's counters for this client and device start over, and the attempt is not held against the client. */
  async signedIn(email: string, client: string, device?: string): Promise<void> {
    await this.db.query(
      `WITH gone AS (DELETE FROM signin_failures WHERE key = ANY($1::text[]))
       UPDATE signin_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($2::text[])`,
      [
        [`signin:${email}|${client}`, `signin-device:${email}|${device ?? ''}`],
        device ? [] : [`signin-client:${client}`, `signin-unknown:${email}`],
      ],
    );
  }

  /** Counts a SetupIntent asked for; seconds to wait when over a limit, else 0. */
  setupIntent(userId: string, client: string): Promise<number> {
    return this.count([
      [`setup-user:${userId}`, this.limits.setupIntentsPerUser],
      [`setup-client:${client}`, this.limits.setupIntentsPerClient],
    ]);
  }

  /** Counts a password-reset link asked for (known address or not); seconds to wait when over a limit, else 0. */
  passwordReset(email: string, client: string): Promise<number> {
    return this.count([
      [`reset:${email}`, this.limits.resetsPerAccount],
      [`reset-client:${client}`, this.limits.resetsPerClient],
    ]);
  }

  /** Counts a sign-up attempt; seconds to wait when over the limit, else 0. */
  signup(client: string): Promise<number> {
    return this.count([[`signup-client:${client}`, this.limits.signupsPerClient]]);
  }

  /** Counts an attempt to add a card, before Stripe sees it; seconds to wait when over a limit, else 0. */
  card(userId: string, client: string): Promise<number> {
    return this.count([
      [`card-user:${userId}`, this.limits.cardsPerUser],
      [`card-client:${client}`, this.limits.cardsPerClient],
    ]);
  }

  private async count(keys: [key: string, limit: number][]): Promise<number> {
    // One statement for all keys; the row lock of ON CONFLICT serialises concurrent attempts per key.
    const rows = await this.db.query<{ key: string; failures: number; left: string }[]>(
      `INSERT INTO signin_failures (key, failures, window_started_at)
         SELECT unnest($1::text[]), 1, now()
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN signin_failures.window_started_at > now() - make_interval(secs => $2)
                         THEN signin_failures.failures + 1 ELSE 1 END,
         window_started_at = CASE WHEN signin_failures.window_started_at > now() - make_interval(secs => $2)
                         THEN signin_failures.window_started_at ELSE now() END
       RETURNING key, failures,
         extract(epoch FROM window_started_at + make_interval(secs => $2) - now()) AS left`,
      [keys.map(([k]) => k), this.limits.windowSeconds],
    );
    const limitOf = new Map(keys);
    const over = rows.filter((r) => r.failures > (limitOf.get(r.key) ?? Infinity));
    return over.length ? Math.max(1, Math.ceil(Math.max(...over.map((r) => Number(r.left))))) : 0;
  }
}
