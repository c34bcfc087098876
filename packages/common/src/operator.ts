import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Request, RequestHandler } from 'express';
import { safeEqual, SERVICE_TOKEN_HEADER, USER_ID_HEADER } from './auth';
import { problems } from './problem';
import { traceHeaders } from './tracing';

/**
 * The operator API's trust model: an operator calls `/admin/*` with an API key (`Authorization: Bearer
 * psk_…`), never a customer's token. The gateway verifies the key with the user service (which stores it
 * hashed) and forwards who it is — key id, name, scopes — next to the service token, stripping any client's
 * copies; a service's admin route checks the scope it needs and records what it did in the audit log.
 */
export const OPERATOR_HEADERS = {
  keyId: 'x-operator-key-id',
  keyName: 'x-operator-key-name',
  scopes: 'x-operator-scopes',
} as const;

/** What an API key may do; each admin route needs one. */
export const OPERATOR_SCOPES = [
  'orders:read',
  'refunds:write',
  'captures:write',
  'webhooks:write',
  'dlq:write',
  'recon:read',
  'recon:write',
  'audit:read',
] as const;
export type OperatorScope = (typeof OPERATOR_SCOPES)[number];

/** An API key as shown once at creation: `psk_<key id>_<secret>` (the id finds its row, the secret proves it). */
export const API_KEY_PATTERN = /^psk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** How a key's secret is stored: SHA-256 (the secret is 256 random bits; nothing to slow down a guess of). */
export const apiKeyHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export interface Operator {
  keyId: string;
  name: string;
  scopes: OperatorScope[];
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requireOperator`: the API key the gateway verified. */
    operator?: Operator;
  }
}

/** The key's name travels percent-encoded (header values are latin-1). */
function decodeName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** For admin routes behind the gateway: an operator whose key holds `scope` (403 otherwise), or any key. */
export function requireOperator(serviceToken: string, scope?: OperatorScope): RequestHandler {
  return (req, _res, next) => {
    const token = req.get(SERVICE_TOKEN_HEADER);
    const keyId = req.get(OPERATOR_HEADERS.keyId);
    if (!token || !safeEqual(token, serviceToken) || !keyId || req.get(USER_ID_HEADER)) {
      next(problems.unauthorized('Send Authorization: Bearer <API key> to the gateway'));
      return;
    }
    const scopes = (req.get(OPERATOR_HEADERS.scopes) ?? '').split(',').filter(Boolean) as OperatorScope[];
    req.operator = { keyId, name: decodeName(req.get(OPERATOR_HEADERS.keyName) ?? ''), scopes };
    next(
      !scope || scopes.includes(scope)
        ? undefined
        : problems.forbidden(`This API key lacks the scope ${scope}`),
    );
  };
}

/** One operator action as the audit log keeps it. */
export interface AuditEntry {
  /**
   * Names the action: the same action recorded twice (a retried request, an Idempotency-Key asked again) is
   * one row. From `auditId`.
   */
  id: string;
  keyId: string;
  keyName: string;
  /** e.g. `refund.create`, `capture.create`, `key.create`. */
  action: string;
  /** What it was done to: `order:<id>`, `endpoint:<id>`, `key:<id>`… */
  target: string;
  reason?: string;
  requestId?: string;
  /** `ok`, or `refused: <why>`. */
  outcome: string;
  at?: string;
}

/** Who runs a command-line tool on a server: audited as `cli:<the shell user>`. */
export function cliOperator(): Operator {
  return { keyId: 'cli', name: `cli:${userInfo().username}`, scopes: [...OPERATOR_SCOPES] };
}

/** The id of an action: the key, what, on what, and the request's own id (its Idempotency-Key, or the request id). */
export const auditId = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/**
 * The entry for an action of the request's operator (set by requireOperator): `key` is the action's own id
 * within the request (its Idempotency-Key, or one of its own), so an action asked again is the same entry.
 */
export function operatorAudit(
  req: Request,
  what: { action: string; target: string; key: string; outcome: string; reason?: string },
): AuditEntry {
  const op = req.operator!;
  return {
    id: auditId(op.keyId, what.action, what.target, what.key),
    keyId: op.keyId,
    keyName: op.name,
    action: what.action,
    target: what.target,
    ...(what.reason ? { reason: what.reason } : {}),
    requestId: req.id,
    outcome: what.outcome,
  };
}

/**
 * Appends an entry to the audit log (the user service keeps it, append-only). Retried a few times: an
 * action must not go unrecorded because the log was briefly away; the caller fails the request (503) when it
 * still cannot, so the operator asks again and the same action is recorded once.
 */
export async function recordAudit(
  deps: { userServiceUrl: string; serviceToken: string },
  entry: AuditEntry,
): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const res = await fetch(new URL('/internal/audit', deps.userServiceUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SERVICE_TOKEN_HEADER]: deps.serviceToken,
          ...traceHeaders(),
        },
        body: JSON.stringify(entry),
        signal: AbortSignal.timeout(3000),
      });
      if (res.status === 201 || res.status === 200) return;
      lastError = new Error(`audit log answered HTTP ${res.status}`);
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
  }
  throw problems.unavailable(
    `The action was done but could not be written to the audit log (${String(lastError)}); ask again`,
  );
}
