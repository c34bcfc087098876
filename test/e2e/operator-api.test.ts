import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { createStripe } from '@paystream/common/stripe';
import { chromium } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { chromiumBinary, webhookVerifierPython } from '../../stack';
import { cfg, disableWebhookEndpoints, eventually, mailpit } from '../support';
import { E2E_PORTS, startE2EWithWebhooks, type Auth, type E2E } from './support';

/**
 * The operator API through the gateway, on the real stack: API keys made by the CLI (shown once, stored
 * hashed), scopes, the audit log, the order search and timeline, refunds, and the merchant's event feed —
 * delivered to a receiver that verifies every signature with the Standard Webhooks reference library from PyPI,
 * and verified again here with its JavaScript twin (npm `standardwebhooks`): an implementation that is not ours.
 */
let e2e: E2E;
let users: PgClient;
let receiver: ChildProcess;
const RECEIVER_PORT = 18397;
const RECEIVER = `http://127.0.0.1:${RECEIVER_PORT}`;
const DISPUTE_CARD = { card: { number: '4000000000000259', expMonth: 12, expYear: 2034, cvc: '123' } };

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.operatorApi, 60, {
    GATEWAY_KEY_CACHE_SECONDS: '1',
    WEBHOOK_INITIAL_RETRY_MS: '300',
    WEBHOOK_MAX_RETRY_MS: '1000',
  });
  users = new PgClient({ connectionString: cfg.USER_DATABASE_URL });
  await users.connect();
  receiver = spawn(
    await webhookVerifierPython(),
    [path.join(__dirname, '../support/webhook_receiver.py'), String(RECEIVER_PORT)],
    { stdio: 'ignore' },
  );
  await eventually(async () => expect((await fetch(`${RECEIVER}/_received`)).status).toBe(200));
}, 180_000);

/** The receiver verifies what arrives at `hook` (one endpoint's path) with that endpoint's secret. */
const verifyWith = (hook: string, secret: string) =>
  fetch(`${RECEIVER}/_secret`, { method: 'POST', body: JSON.stringify({ path: hook, secret }) });
const receivedAt = async (hook: string) =>
  ((await (await fetch(`${RECEIVER}/_received`)).json()) as Received[]).filter((m) => m.path === hook);

afterAll(async () => {
  receiver?.kill();
  await disableWebhookEndpoints(RECEIVER);
  await users?.end();
  await e2e?.stop();
});

async function newKey(name: string, scopes: string[]): Promise<{ id: string; key: string; auth: Auth }> {
  const made = await e2e.ops('keys', 'create', '--name', name, '--scopes', scopes.join(','));
  expect(made.code).toBe(0);
  const { id, key } = JSON.parse(made.out) as { id: string; key: string };
  return { id, key, auth: { authorization: `Bearer ${key}` } };
}

const gateway = (p: string) => `${e2e.services.url('gateway')}${p}`;

/** A problem+json answer's fields. */
interface Problem {
  type?: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

/** A call through the gateway; the body as the caller expects it (each test asserts what it reads). */
async function call<T = Problem>(
  method: string,
  p: string,
  auth: Auth,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(gateway(p), {
    method,
    headers: { ...auth, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: (res.headers.get('content-type') ?? '').split(';')[0],
    body: (text ? JSON.parse(text) : {}) as T,
  };
}

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptLog: { statusCode: number | null; error: string | null }[];
}

const auditOf = async (target: string) =>
  (
    await users.query<{ action: string; outcome: string; key_name: string; reason: string | null }>(
      `SELECT action, outcome, key_name, reason FROM audit_log WHERE target = $1 ORDER BY id`,
      [target],
    )
  ).rows;

describe('API keys', () => {
  it('are shown once and stored hashed; a customer token, an unknown or a revoked key is 401; a missing scope 403', async () => {
    const support = await newKey('support desk', ['orders:read']);
    const [row] = (
      await users.query<{ secret_hash: string }>(`SELECT secret_hash FROM api_keys WHERE id = $1`, [
        support.id,
      ])
    ).rows;
    expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(support.key).not.toContain(row!.secret_hash);
    expect((await auditOf(`key:${support.id}`)).map((r) => r.action)).toEqual(['key.create']);

    expect((await call('GET', '/admin/orders', support.auth)).status).toBe(200);
    const customer = await e2e.customer();
    const withToken = await call('GET', '/admin/orders', customer.auth);
    expect([withToken.status, withToken.type]).toEqual([401, 'application/problem+json']);
    const forged = `psk_${support.id}_${'A'.repeat(43)}`;
    expect((await call('GET', '/admin/orders', { authorization: `Bearer ${forged}` })).status).toBe(401);
    const refund = await call('POST', `/admin/orders/${customer.userId}/refunds`, support.auth, {});
    expect([refund.status, refund.body.detail]).toEqual([403, 'This API key lacks the scope refunds:write']);
    // An API key opens no customer route either.
    expect((await call('GET', '/orders', support.auth)).status).toBe(401);

    expect((await e2e.ops('keys', 'revoke', support.id, '--reason', 'test')).code).toBe(0);
    await eventually(
      async () => expect((await call('GET', '/admin/orders', support.auth)).status).toBe(401),
      5000,
    );
    expect((await auditOf(`key:${support.id}`)).map((r) => r.action)).toEqual(['key.create', 'key.revoke']);
  });
});

describe('orders, refunds and the audit log', () => {
  it('finds an order by its customer, tells its story, and refunds it once per request, each refund one audit row', async () => {
    const ops = await newKey('back office', ['orders:read', 'refunds:write', 'audit:read']);
    const paid = await e2e.paidOrder();
    const found = await call<{ orders: { orderId: string }[] }>(
      'GET',
      `/admin/orders?customer=${encodeURIComponent(paid.email)}&status=paid`,
      ops.auth,
    );
    expect(found.body.orders.map((o) => o.orderId)).toEqual([paid.orderId]);

    const timeline = await call<{
      order: unknown;
      steps: { type: string }[];
      ledger: { movements: unknown[] };
      notifications: { emails: unknown[] };
      links: { temporal: string };
    }>('GET', `/admin/orders/${paid.orderId}`, ops.auth);
    expect(timeline.body.order).toMatchObject({ orderId: paid.orderId, status: 'paid', userId: paid.userId });
    expect(timeline.body.steps.map((s) => s.type)).toEqual(['order.created', 'order.paid']);
    expect(timeline.body.ledger.movements).toEqual([
      expect.objectContaining({ kind: 'charged', amount: 2599 }),
    ]);
    expect(timeline.body.notifications.emails).toEqual([expect.objectContaining({ status: 'sent' })]);
    expect(timeline.body.links.temporal).toContain(encodeURIComponent(`OrderId="${paid.orderId}"`));

    const ask = () =>
      call<{ refundId: string }>(
        'POST',
        `/admin/orders/${paid.orderId}/refunds`,
        ops.auth,
        { amount: 599, reason: 'late delivery' },
        { 'idempotency-key': 'ticket-17' },
      );
    const first = await ask();
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ requestId: 'ticket-17', status: 'partially_refunded', amount: 599 });
    expect((await ask()).body.refundId).toBe(first.body.refundId); // the same request: the same refund
    const over = await call('POST', `/admin/orders/${paid.orderId}/refunds`, ops.auth, { amount: 5000 });
    expect([over.status, over.body.type]).toEqual([409, 'https://paystream.dev/problems/refund-refused']);

    const rows = await auditOf(`order:${paid.orderId}`);
    expect(rows.map((r) => [r.action, r.outcome.split(':')[0], r.key_name])).toEqual([
      ['refund.create', 'ok', 'back office'],
      ['refund.create', 'refused', 'back office'],
    ]);
    expect(rows[0]!.reason).toBe('late delivery');
    const viaApi = await call<{ entries: unknown[] }>(
      'GET',
      `/admin/audit?target=${encodeURIComponent(`order:${paid.orderId}`)}`,
      ops.auth,
    );
    // Newest first: the refusal, then the refund.
    expect(viaApi.body.entries).toEqual([
      expect.objectContaining({ action: 'refund.create', outcome: expect.stringMatching(/^refused: /) }),
      expect.objectContaining({ action: 'refund.create', outcome: 'ok', keyName: 'back office' }),
    ]);
    // Append-only: the database itself refuses to change an entry.
    await expect(
      users.query(`DELETE FROM audit_log WHERE target = $1`, [`order:${paid.orderId}`]),
    ).rejects.toThrow(/append-only/);
  });

  it('a refund of a disputed order is refused, nothing moves, and the refusal is one audit row', async () => {
    const ops = await newKey('refunds', ['refunds:write']);
    const buyer = await e2e.customer(DISPUTE_CARD);
    const created = await e2e.post('/orders/create', { amount: 1800, currency: 'EUR' }, buyer.auth);
    const orderId = created.body.orderId as string;
    await eventually(
      async () => expect((await e2e.statusOf(orderId, buyer.auth)).status).toBe('disputed'),
      30_000,
    );
    const refused = await call('POST', `/admin/orders/${orderId}/refunds`, ops.auth, {});
    expect([refused.status, refused.body.detail]).toEqual([
      409,
      'A dispute is open on this payment: no refund until the bank decides it',
    ]);
    expect((await auditOf(`order:${orderId}`)).map((r) => [r.action, r.outcome])).toEqual([
      ['refund.create', 'refused: A dispute is open on this payment: no refund until the bank decides it'],
    ]);
  });
});

describe("the merchant's event feed (Standard Webhooks)", () => {
  it('delivers each step of an order, in order, signed so that both reference libraries verify it; rotation overlaps', async () => {
    const ops = await newKey('integrations', ['webhooks:write', 'orders:read']);
    const unsafe = await call('POST', '/admin/webhooks/endpoints', ops.auth, {
      url: 'http://169.254.169.254/latest',
      eventTypes: ['order.paid'],
    });
    expect([unsafe.status, unsafe.body.errors?.[0]?.message]).toEqual([
      400,
      'points inside a private network (169.254.169.254)',
    ]);
    // Endpoints made by earlier runs on this stack may still point at the receiver: this one has its own path.
    const hook = `/hook/${randomUUID()}`;
    const made = await call<{ id: string; secret: string }>('POST', '/admin/webhooks/endpoints', ops.auth, {
      url: `${RECEIVER}${hook}`,
      eventTypes: ['order.paid', 'order.refunded'],
      description: 'ERP',
    });
    expect(made.status).toBe(201);
    const { id: endpointId, secret } = made.body;
    expect(secret).toMatch(/^whsec_/);
    await verifyWith(hook, secret);
    const received = () => receivedAt(hook);

    // Down for a while: the first delivery is retried until it is back, and the order's events keep their order.
    await fetch(`${RECEIVER}/_fail`, { method: 'POST', body: JSON.stringify({ status: 503 }) });
    const paid = await e2e.paidOrder();
    const refunds = await newKey('refunder', ['refunds:write']);
    await call('POST', `/admin/orders/${paid.orderId}/refunds`, refunds.auth, { amount: 1000 });
    await new Promise((r) => setTimeout(r, 1500));
    await fetch(`${RECEIVER}/_recover`, { method: 'POST' });
    const mine = async () => (await received()).filter((m) => m.orderId === paid.orderId && m.verified);
    await eventually(async () => expect((await mine()).length).toBe(2), 30_000);
    expect((await mine()).map((m) => m.type)).toEqual(['order.paid', 'order.refunded']);
    for (const m of await mine()) new Webhook(secret).verify(m.body, m.headers); // the JavaScript twin agrees

    // The receiver has a message a moment before the delivery log records its answer.
    const paidDelivery = await eventually(async () => {
      const log = await call<{ deliveries: Delivery[] }>(
        'GET',
        // This endpoint's: one another suite left enabled gets the order's events too.
        `/admin/webhooks/deliveries?orderId=${paid.orderId}&endpointId=${endpointId}`,
        ops.auth,
      );
      const found = log.body.deliveries.find((d) => d.eventType === 'order.paid')!;
      expect(found.status).toBe('delivered');
      return found;
    });
    expect(paidDelivery.attemptLog[0]).toMatchObject({ statusCode: 503, error: 'HTTP 503' });
    expect(paidDelivery.attemptLog.at(-1)).toMatchObject({ statusCode: 204, error: null });

    // Rotation: the old secret still verifies while the overlap lasts, the new one from now on.
    const rotated = await call<{ secret: string }>(
      'POST',
      `/admin/webhooks/endpoints/${endpointId}/rotate`,
      ops.auth,
      {
        overlapSeconds: 3600,
      },
    );
    const next = rotated.body.secret;
    const redelivered = await call(
      'POST',
      `/admin/webhooks/deliveries/${paidDelivery.id}/redeliver`,
      ops.auth,
    );
    expect(redelivered.status).toBe(202);
    await eventually(
      async () => expect((await received()).filter((m) => m.id === paidDelivery.eventId)).toHaveLength(2),
      20_000,
    );
    const again = (await received()).filter((m) => m.id === paidDelivery.eventId).at(-1)!;
    expect(again.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    new Webhook(secret).verify(again.body, again.headers);
    new Webhook(next).verify(again.body, again.headers);
    expect((await auditOf(`endpoint:${endpointId}`)).map((r) => r.action)).toEqual([
      'webhook.endpoint.create',
      'webhook.secret.rotate',
    ]);
    await eventually(async () => {
      if (!(await mailpit.messagesTo(paid.email)).some((m) => m.Subject.startsWith('Refund of')))
        throw new Error('no refund email yet');
    });
  });
});

interface Received {
  path: string;
  id: string;
  verified: boolean;
  type: string | null;
  orderId: string | null;
  body: string;
  headers: Record<string, string>;
}

describe('the console', () => {
  const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts');

  it('is served with a CSP that runs only its own files', async () => {
    const page = await fetch(gateway('/console'));
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/https?:|unsafe-inline|unsafe-eval/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.sort()).toEqual(['/console/console.css', '/console/console.js']);
    for (const asset of assets) expect((await fetch(gateway(asset))).status).toBe(200);
  });

  it('looks an order up by its customer, refunds part of it, and shows the audit row and the webhook delivery', async () => {
    const { key } = await newKey('support console', [
      'orders:read',
      'refunds:write',
      'webhooks:write',
      'dlq:write',
      'recon:read',
      'audit:read',
    ]);
    const hook = `/hook/${randomUUID()}`;
    const paid = await e2e.paidOrder();
    const { orderId } = paid;
    const browser = await chromium.launch({ executablePath: chromiumBinary() });
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1500 } });
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      const shows = (selector: string, hasText?: string | RegExp, timeout = 15_000) =>
        page
          .locator(selector, hasText === undefined ? {} : { hasText })
          .first()
          .waitFor({ timeout });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.goto(gateway('/console'));
      await page.locator('#api-key').fill('psk_notakey');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shows('#message', /Authorization: Bearer/);
      problems.length = 0; // the browser logs the 401 above as a failed request
      await page.locator('#api-key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await shows('#who', 'support console');

      // A webhook endpoint made in the console: its secret is shown once, and the receiver verifies with it.
      await page.locator('[data-tab=webhooks]').click();
      await page.locator('#endpoint-url').fill(`${RECEIVER}${hook}`);
      await page.locator('#endpoint-types input[value="order.paid"]').check();
      await page.locator('#endpoint-types input[value="order.refunded"]').check();
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await shows('#endpoint-secret', /^whsec_/);
      await verifyWith(hook, (await page.locator('#endpoint-secret').textContent())!);

      await page.locator('[data-tab=orders]').click();
      await page.locator('#search-text').fill(paid.email);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator(`[data-order="${orderId}"]`).click();
      await shows('#order-status[data-status=paid]');
      await shows('#order-ledger tr[data-kind=charged]', '€25.99');
      expect(await page.locator('#order-temporal').getAttribute('href')).toContain(
        encodeURIComponent(`OrderId="${orderId}"`),
      );
      expect(await page.locator('#chart svg rect.bar').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-order.png'), fullPage: true });

      await page.locator('#refund-amount').fill('5.00');
      await page.locator('#refund-reason').fill('damaged box');
      await page.getByRole('button', { name: 'Refund', exact: true }).click();
      await shows('#message', /^Refunded €5\.00/);
      await shows('#order-status[data-status=partially_refunded]');
      await shows('#order-ledger tr[data-kind=refunded]', '€5.00');
      const auditRows = page.locator('#order-audit tbody tr', { hasText: 'refund.create' });
      await auditRows.first().waitFor();
      expect(await auditRows.allTextContents()).toEqual([
        expect.stringMatching(/refund\.createsupport consoledamaged boxok$/),
      ]);
      // The page follows the order while it is open: the delivery of order.refunded shows up by itself.
      await shows(
        '#order-webhooks tr[data-event="order.refunded"][data-status=delivered]',
        undefined,
        30_000,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-refunded.png'), fullPage: true });

      for (const tab of ['dlq', 'drift', 'audit', 'webhooks']) {
        await page.locator(`[data-tab=${tab}]`).click();
        await shows(`#${tab === 'webhooks' ? 'endpoint' : tab}-list tbody tr`);
      }
      await page.locator(`#endpoint-list button.link`, { hasText: /^we_/ }).last().click();
      await shows('#delivery-list tr[data-event="order.refunded"][data-status=delivered]', orderId);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-webhooks.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }

    // What the clicks did, read back where it lives: one audit row, one refund at Stripe, a verified delivery.
    expect(
      (await auditOf(`order:${orderId}`)).map((r) => [r.action, r.outcome, r.key_name, r.reason]),
    ).toEqual([['refund.create', 'ok', 'support console', 'damaged box']]);
    const delivered = (await receivedAt(hook)).filter((m) => m.verified && m.type === 'order.refunded');
    expect(delivered).toHaveLength(1);
    const data = (
      JSON.parse(delivered[0]!.body) as { data: { refundedAmount: number; paymentIntentId: string } }
    ).data;
    expect(data.refundedAmount).toBe(500);
    const refunds = await createStripe(cfg).refunds.list({ payment_intent: data.paymentIntentId });
    expect(refunds.data.map((r) => r.amount)).toEqual([500]);
  }, 120_000);
});
