import type { DataSource } from 'typeorm';

/**
 * Slows brute force: failed sign-ins are counted per email and per client address in Postgres (so every
 * replica sees the same counts) over a fixed window; over the limit, sign-in answers 429 until the
 * window ends, even for the right password. A success clears the email's counter.
 */
export interface ThrottleLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { perEmail: 5, perAddress: 50, windowSeconds: 15 * 60 };

export class SigninThrottle {
  constructor(
    private readonly db: DataSource,
    private readonly limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  private keys(email: string, address: string): [string, number][] {
    return [
      [`email:${email}`, this.limits.perEmail],
      [`addr:${address}`, this.limits.perAddress],
    ];
  }

  /** Seconds until the caller may try again, or 0 when not blocked. */
  async retryAfter(email: string, address: string): Promise<number> {
    const rows = await this.db.query<{ key: string; failures: number; left: string }[]>(
      `SELECT key, failures, extract(epoch FROM window_started_at + make_interval(secs => $2) - now()) AS left
         FROM signin_failures WHERE key = ANY($1) AND window_started_at > now() - make_interval(secs => $2)`,
      [this.keys(email, address).map(([k]) => k), this.limits.windowSeconds],
    );
    const limitOf = new Map(this.keys(email, address));
    const blocked = rows.filter((r) => r.failures >= (limitOf.get(r.key) ?? Infinity));
    return blocked.length ? Math.max(1, Math.ceil(Math.max(...blocked.map((r) => Number(r.left))))) : 0;
  }

  async recordFailure(email: string, address: string): Promise<void> {
    for (const [key] of this.keys(email, address)) {
      // A window that has ended starts over at one failure.
      await this.db.query(
        `INSERT INTO signin_failures (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN signin_failures.window_started_at > now() - make_interval(secs => $2)
                           THEN signin_failures.failures + 1 ELSE 1 END,
           window_started_at = CASE WHEN signin_failures.window_started_at > now() - make_interval(secs => $2)
                           THEN signin_failures.window_started_at ELSE now() END`,
        [key, this.limits.windowSeconds],
      );
    }
  }

  async recordSuccess(email: string): Promise<void> {
    await this.db.query(`DELETE FROM signin_failures WHERE key = $1`, [`email:${email}`]);
  }
}
