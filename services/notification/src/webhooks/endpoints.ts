import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { CodecKey } from '@paystream/common/codec-keys';
import type { OrderEvent, OrderEventType } from '@paystream/common/events';
import type { DataSource } from 'typeorm';

/**
 * Merchant webhook endpoints and what is delivered to them, per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): each message carries `webhook-id` (the event's id: a retry or a
 * redelivery is the same message), `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`, keyed by the endpoint's `whsec_…` secret — one signature per secret while a rotation
 * overlaps, so a receiver holding either verifies.
 */
export interface EndpointSecret {
  /** `whsec_` + base64 of 24 random bytes (the spec's format); kept encrypted at rest. */
  secret: string;
  createdAt: string;
  /** Set on the old secret when a new one takes over: it still signs until then. */
  expiresAt?: string;
}

export interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: OrderEventType[];
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  lastSuccessAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
}

export interface Delivery {
  id: string;
  endpointId: string;
  eventId: string;
  orderId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: number;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The body of a message: the spec's `type`, `timestamp` and `data`. */
export function messageBody(event: OrderEvent): string {
  const { eventId: _id, type, occurredAt, ...data } = event;
  return JSON.stringify({ type, timestamp: occurredAt, data });
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** `webhook-signature`: `v1,<sig>` for each secret still valid, separated by spaces. */
export function signature(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((s) => {
      const key = Buffer.from(s.replace(/^whsec_/, ''), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}

/** The secrets that sign now: the newest, and an older one until its overlap ends. */
export const signingSecrets = (secrets: readonly EndpointSecret[], now = Date.now()) =>
  secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now).map((s) => s.secret);

// --- where an endpoint may point ---------------------------------------------------------------------------

const FORBIDDEN = new BlockList();
for (const [net, bits, type] of [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
] as const)
  FORBIDDEN.addSubnet(net, bits, type);
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is its IPv4 address. */
const unmapped = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
const forbidden = (address: string) => {
  const a = unmapped(address);
  return FORBIDDEN.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
};
const loopback = (address: string) => {
  const a = unmapped(address);
  return LOOPBACK.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
};

/**
 * Why a URL may not be an endpoint, or undefined: in production only https, and never an address inside a
 * network (loopback, link-local — cloud metadata lives there — private, shared, unspecified), whatever a name
 * resolves to (checked again at every delivery: a name can be re-pointed). In development, http to loopback
 * (a test receiver) is allowed too.
 */
export async function endpointUrlProblem(raw: string, production: boolean): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol !== 'https:' && (production || url.protocol !== 'http:'))
    return production ? 'must be https' : 'must be http or https';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return 'names a host that does not resolve';
  }
  for (const address of addresses) {
    if (!forbidden(address)) continue;
    if (!production && loopback(address)) continue;
    return `points inside a private network (${address})`;
  }
  if (!production && url.protocol === 'http:' && !addresses.every(loopback))
    return 'may use http only to this machine (a test receiver); use https';
  return undefined;
}

// --- storage ---------------------------------------------------------------------------------------------

/** Endpoint secrets at rest: AES-256-GCM under the first codec key, `keyId.iv.tag.ciphertext` (base64url). */
export class SecretBox {
  constructor(private readonly keys: readonly CodecKey[]) {}

  seal(secrets: EndpointSecret[]): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return [id, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string): EndpointSecret[] {
    const [id, iv, tag, data] = sealed.split('.');
    const key = this.keys.find((k) => k.id === id)?.key;
    if (!key || !iv || !tag || !data)
      throw new Error('webhook secrets sealed under a key this service does not hold');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as EndpointSecret[];
  }
}

const ENDPOINT_COLUMNS = `id, url, description, event_types AS "eventTypes", status, disabled_reason AS "disabledReason",
  last_success_at AS "lastSuccessAt", failing_since AS "failingSince", created_at AS "createdAt"`;
const DELIVERY_COLUMNS = `id::text AS id, endpoint_id AS "endpointId", event_id AS "eventId", order_id AS "orderId",
  event_type AS "eventType", status, attempts, created_at AS "createdAt", delivered_at AS "deliveredAt"`;

export class WebhookStore {
  constructor(
    private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  async createEndpoint(input: { url: string; description?: string; eventTypes: OrderEventType[] }) {
    const id = `we_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').toLowerCase()}`;
    const secret = newSecret();
    const [row] = await this.db.query<Endpoint[]>(
      `INSERT INTO webhook_endpoints (id, url, description, event_types, secrets) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${ENDPOINT_COLUMNS}`,
      [
        id,
        input.url,
        input.description ?? null,
        input.eventTypes,
        JSON.stringify(this.box.seal([{ secret, createdAt: new Date().toISOString() }])),
      ],
    );
    return { endpoint: row!, secret };
  }

  async endpoints(): Promise<Endpoint[]> {
    return this.db.query<Endpoint[]>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at`);
  }

  async endpoint(id: string): Promise<Endpoint | undefined> {
    const [row] = await this.db.query<Endpoint[]>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return row;
  }

  async secretsOf(id: string): Promise<EndpointSecret[]> {
    const [row] = await this.db.query<{ secrets: string }[]>(
      `SELECT secrets FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return row ? this.box.open(row.secrets) : [];
  }

  /** A new secret signs from now; the old ones keep signing for `overlapSeconds`, then stop. */
  async rotate(id: string, overlapSeconds: number): Promise<string | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ secrets: string }[]>(
        `SELECT secrets FROM webhook_endpoints WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!row) return undefined;
      const until = new Date(Date.now() + overlapSeconds * 1000).toISOString();
      const old = this.box
        .open(row.secrets)
        .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > Date.now())
        .map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < until ? s.expiresAt : until }));
      const secret = newSecret();
      await tx.query(`UPDATE webhook_endpoints SET secrets = $2, updated_at = now() WHERE id = $1`, [
        id,
        JSON.stringify(this.box.seal([{ secret, createdAt: new Date().toISOString() }, ...old])),
      ]);
      return secret;
    });
  }

  async setStatus(
    id: string,
    status: 'enabled' | 'disabled',
    reason?: string,
  ): Promise<Endpoint | undefined> {
    const [rows] = await this.db.query<[Endpoint[], number]>(
      `UPDATE webhook_endpoints SET status = $2, disabled_reason = $3, updated_at = now(),
          failing_since = CASE WHEN $2 = 'enabled' THEN NULL ELSE failing_since END
         WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
      [id, status, status === 'disabled' ? (reason ?? 'disabled by an operator') : null],
    );
    return rows[0];
  }

  /** Enabled endpoints that want this type of event. */
  async subscribers(type: OrderEventType): Promise<Endpoint[]> {
    return this.db.query<Endpoint[]>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE status = 'enabled' AND $1 = ANY(event_types)`,
      [type],
    );
  }

  /** The delivery of an event to an endpoint, made once (a redelivered event finds it); answers its id. */
  async enqueue(endpointId: string, event: OrderEvent): Promise<string> {
    const [row] = await this.db.query<{ id: string }[]>(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, order_id, event_type, payload) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (endpoint_id, event_id) DO UPDATE SET event_type = EXCLUDED.event_type
         RETURNING id::text AS id`,
      [endpointId, event.eventId, event.orderId, event.type, JSON.stringify(event)],
    );
    return row!.id;
  }

  async delivery(id: string): Promise<(Delivery & { payload: OrderEvent }) | undefined> {
    const [row] = await this.db.query<(Delivery & { payload: OrderEvent })[]>(
      `SELECT ${DELIVERY_COLUMNS}, payload FROM webhook_deliveries WHERE id = $1`,
      [id],
    );
    return row;
  }

  /** One attempt, as it went; the delivery's status and the endpoint's health follow. */
  async recordAttempt(
    delivery: Delivery,
    attempt: { statusCode: number | null; latencyMs: number; error: string | null },
  ): Promise<void> {
    const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error) VALUES ($1, $2, $3, $4)`,
        [delivery.id, attempt.statusCode, attempt.latencyMs, attempt.error?.slice(0, 500) ?? null],
      );
      await tx.query(
        `UPDATE webhook_deliveries SET attempts = attempts + 1,
            status = CASE WHEN $2 THEN 'delivered' ELSE status END,
            delivered_at = CASE WHEN $2 THEN now() ELSE delivered_at END
           WHERE id = $1`,
        [delivery.id, ok],
      );
      await tx.query(
        ok
          ? `UPDATE webhook_endpoints SET last_success_at = now(), failing_since = NULL WHERE id = $1`
          : `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now()) WHERE id = $1`,
        [delivery.endpointId],
      );
    });
  }

  /** The end of a delivery whose attempts are spent; one that got through stays delivered. */
  async finish(id: string, status: 'failed' | 'skipped'): Promise<void> {
    await this.db.query(`UPDATE webhook_deliveries SET status = $2 WHERE id = $1 AND status <> 'delivered'`, [
      id,
      status,
    ]);
  }

  /** A delivery to be sent again, whatever became of it (an operator's redelivery). */
  async reopen(id: string): Promise<void> {
    await this.db.query(`UPDATE webhook_deliveries SET status = 'pending' WHERE id = $1`, [id]);
  }

  /** Deliveries, newest first, with their attempts; by endpoint, order or status. */
  async deliveries(filter: {
    endpointId?: string;
    orderId?: string;
    status?: string;
    before?: string;
    limit: number;
  }): Promise<(Delivery & { attemptLog: unknown[] })[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (filter.endpointId) add('d.endpoint_id = ?', filter.endpointId);
    if (filter.orderId) add('d.order_id = ?', filter.orderId);
    if (filter.status) add('d.status = ?', filter.status);
    if (filter.before) add('d.id < ?', filter.before);
    args.push(filter.limit);
    return this.db.query(
      `SELECT d.id::text AS id, d.endpoint_id AS "endpointId", d.event_id AS "eventId", d.order_id AS "orderId",
          d.event_type AS "eventType", d.status, d.attempts, d.created_at AS "createdAt", d.delivered_at AS "deliveredAt",
          COALESCE((SELECT json_agg(json_build_object('at', a.at, 'statusCode', a.status_code,
            'latencyMs', a.latency_ms, 'error', a.error) ORDER BY a.id)
            FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS "attemptLog"
         FROM webhook_deliveries d ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY d.id DESC LIMIT $${args.length}`,
      args,
    );
  }
}
