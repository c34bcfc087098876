import { randomBytes } from 'node:crypto';
import { safeEqual } from '@paystream/common/auth';
import {
  API_KEY_PATTERN,
  apiKeyHash,
  auditId,
  type AuditEntry,
  type Operator,
  type OperatorScope,
} from '@paystream/common/operator';
import type { DataSource } from 'typeorm';

/** An audit row as read back. */
export interface AuditRow extends Required<Omit<AuditEntry, 'reason' | 'requestId'>> {
  seq: string;
  reason: string | null;
  requestId: string | null;
}

export interface KeyRow {
  id: string;
  name: string;
  scopes: OperatorScope[];
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const KEY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The operators' API keys and the audit log, in the user service's database. A key is shown once, when it
 * is made; only the SHA-256 of its secret is kept, and a key is checked in constant time. Every key made or
 * revoked is itself an audit entry, in the same transaction.
 */
export class Operators {
  constructor(private readonly db: DataSource) {}

  /** A new key with these scopes; answers it in full (the only time it exists outside its holder). */
  async createKey(
    name: string,
    scopes: OperatorScope[],
    by: { keyId: string; keyName: string },
  ): Promise<{ key: string; row: KeyRow }> {
    const id = Array.from(randomBytes(12), (b) => KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length]).join('');
    const secret = randomBytes(32).toString('base64url');
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<KeyRow[]>(
        `INSERT INTO api_keys (id, name, scopes, secret_hash) VALUES ($1, $2, $3, $4)
           RETURNING id, name, scopes, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`,
        [id, name, scopes, apiKeyHash(secret)],
      );
      await this.append(tx, {
        id: auditId('key.create', id),
        keyId: by.keyId,
        keyName: by.keyName,
        action: 'key.create',
        target: `key:${id}`,
        reason: `${name} (${scopes.join(' ')})`,
        outcome: 'ok',
      });
      return { key: `psk_${id}_${secret}`, row: row! };
    });
  }

  /** Revokes a key (once; revoking it again changes nothing). Answers the key, or undefined. */
  async revokeKey(
    id: string,
    by: { keyId: string; keyName: string },
    reason?: string,
  ): Promise<KeyRow | undefined> {
    return this.db.transaction(async (tx) => {
      const [, count] = await tx.query<[unknown[], number]>(
        `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
        [id],
      );
      const [row] = await tx.query<KeyRow[]>(
        `SELECT id, name, scopes, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
           FROM api_keys WHERE id = $1`,
        [id],
      );
      if (row && count)
        await this.append(tx, {
          id: auditId('key.revoke', id),
          keyId: by.keyId,
          keyName: by.keyName,
          action: 'key.revoke',
          target: `key:${id}`,
          ...(reason ? { reason } : {}),
          outcome: 'ok',
        });
      return row;
    });
  }

  async keys(): Promise<KeyRow[]> {
    return this.db.query<KeyRow[]>(
      `SELECT id, name, scopes, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"
         FROM api_keys ORDER BY created_at`,
    );
  }

  /** The operator a presented key belongs to, or undefined: unknown, malformed, revoked or wrong secret. */
  async verify(presented: string): Promise<Operator | undefined> {
    const match = API_KEY_PATTERN.exec(presented);
    if (!match) return undefined;
    const [, id, secret] = match;
    // An UPDATE answers [rows, rowCount].
    const [[row]] = await this.db.query<
      [{ name: string; scopes: OperatorScope[]; secret_hash: string }[], number]
    >(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND revoked_at IS NULL
         RETURNING name, scopes, secret_hash`,
      [id],
    );
    // Compared in constant time whatever was found: a missing key costs what a wrong secret does.
    const ok = safeEqual(apiKeyHash(secret!), row?.secret_hash ?? apiKeyHash(''));
    return row && ok ? { keyId: id!, name: row.name, scopes: row.scopes } : undefined;
  }

  /** Appends an entry; the same entry id again records nothing (a retried request). */
  async record(entry: AuditEntry): Promise<boolean> {
    return this.append(this.db.manager, entry);
  }

  private async append(q: { query: DataSource['query'] }, e: AuditEntry): Promise<boolean> {
    const rows = await q.query<unknown[]>(
      `INSERT INTO audit_log (entry_id, key_id, key_name, action, target, reason, request_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (entry_id) DO NOTHING RETURNING id`,
      [
        e.id,
        e.keyId,
        e.keyName,
        e.action,
        e.target,
        e.reason?.slice(0, 500) ?? null,
        e.requestId ?? null,
        e.outcome.slice(0, 500),
      ],
    );
    return rows.length > 0;
  }

  /** Audit entries, newest first, keyset-paged by sequence (`before`), filtered. */
  async audit(filter: {
    keyId?: string;
    action?: string;
    target?: string;
    since?: Date;
    before?: string;
    limit: number;
  }): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (filter.keyId) add('key_id = ?', filter.keyId);
    if (filter.action) add('action = ?', filter.action);
    if (filter.target) add('target = ?', filter.target);
    if (filter.since) add('at >= ?', filter.since);
    if (filter.before) add('id < ?', filter.before);
    args.push(filter.limit);
    // Newest first by the log's own sequence (`audit_log.id`: `id` alone would be the entry id's alias).
    return this.db.query<AuditRow[]>(
      `SELECT id::text AS seq, entry_id AS id, at, key_id AS "keyId", key_name AS "keyName", action, target,
          reason, request_id AS "requestId", outcome
         FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_log.id DESC LIMIT $${args.length}`,
      args,
    );
  }
}
