import { requireService } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { requireOperator } from '@paystream/common/operator';
import { problems } from '@paystream/common/problem';
import { Router } from 'express';
import type { Operators } from '../domain/operators';
import { auditEntryBody, auditQuery, verifyKeyBody } from '../api';

/**
 * The operator API's identity and accountability: the gateway verifies API keys here (internal), services
 * append what operators did (internal), and operators read their key (`GET /admin/key`) and the audit log
 * (`GET /admin/audit`).
 */
export function operatorRoutes(operators: Operators, cfg: Config): Router {
  const router = Router();

  router.post('/internal/api-keys/verify', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const found = await operators.verify(validate(verifyKeyBody, req.body).key);
    if (!found) throw problems.unauthorized('Unknown or revoked API key');
    res.json(found);
  });

  router.post('/internal/audit', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const entry = validate(auditEntryBody, req.body);
    res.status((await operators.record(entry)) ? 201 : 200).json({ id: entry.id });
  });

  // Who the caller's key is and what it may do: the console shows only what the key's scopes allow.
  router.get('/admin/key', requireOperator(cfg.SERVICE_TOKEN), (req, res) => {
    const { keyId, name, scopes } = req.operator!;
    res.json({ id: keyId, name, scopes });
  });

  router.get('/admin/audit', requireOperator(cfg.SERVICE_TOKEN, 'audit:read'), async (req, res) => {
    const q = validate(auditQuery, req.query);
    const entries = await operators.audit({
      ...(q.keyId ? { keyId: q.keyId } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.target ? { target: q.target } : {}),
      ...(q.since ? { since: new Date(q.since) } : {}),
      ...(q.cursor ? { before: q.cursor } : {}),
      limit: q.limit,
    });
    res.json({
      entries: entries.map(({ seq: _seq, at, ...e }) => ({ ...e, at: new Date(at).toISOString() })),
      nextCursor: entries.length === q.limit ? entries.at(-1)!.seq : null,
    });
  });

  return router;
}
