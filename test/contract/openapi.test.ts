import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { OPERATOR_SCOPES } from '@paystream/common/operator';
import { createHmac } from 'node:crypto';
import { isPublicRoute } from '../../services/gateway/src/app';
import { ADMIN_ROUTES, adminService } from '../../services/gateway/src/operators';
import { cancelAnswerSchema } from '../../services/order/src/api';
import { webhookAnswerSchema } from '../../services/payment/src/api';
import { cfg, disableWebhookEndpoints } from '../support';
import { chromiumBinary, schemathesisBinary } from '../../stack';
import { E2E_PORTS, startE2E, type E2E } from '../e2e/support';

/**
 * The public contract, end to end: the gateway's GET /openapi.json (merged from what the services
 * generate out of their zod schemas) covers exactly the routes the gateway forwards, its docs page is
 * served from here, and schemathesis (PyPI, pinned) fuzzes the running gateway with a signed-in user and an
 * operator's API key: no 5xx, no answer outside the spec, no invalid input accepted, no protected route open
 * without its credential.
 */
const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts', 'schemathesis');
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'ignored_auth',
];

type Operation = {
  security: unknown[];
  parameters: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, unknown> }>;
};
let e2e: E2E;
let spec: { openapi: string; paths: Record<string, Record<string, Operation>> };
let gateway: string;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.contract);
  gateway = e2e.services.url('gateway');
  spec = (await (await fetch(`${gateway}/openapi.json`)).json()) as typeof spec;
}, 180_000);

afterAll(() => e2e?.stop());

const operations = () =>
  Object.entries(spec.paths).flatMap(([route, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route, method: method.toUpperCase(), op })),
  );
/** A concrete path for a templated one. */
const concrete = (route: string) => route.replace(/\{[^}]+\}/g, '0b7f7a0e-6a3b-4b6e-9a55-1d2f0c3e4a5b');

test('the spec is OpenAPI 3.1 and documents exactly the routes the gateway forwards', () => {
  expect(spec.openapi).toBe('3.1.0');
  const documented = operations().map(({ method, route }) => `${method} ${route}`);
  expect(documented.sort()).toEqual(
    [
      'POST /users/signup',
      'POST /users/signin',
      'POST /users/refresh',
      'POST /users/signout',
      'POST /users/signout-all',
      'POST /users/password',
      'POST /users/password-reset',
      'POST /users/password-reset/confirm',
      'POST /users/verify-email',
      'POST /users/verify-email/resend',
      'POST /users/setup-intent',
      'POST /users/add',
      'POST /orders/create',
      'GET /orders/status/{orderId}',
      'POST /orders/{orderId}/cancel',
      'GET /orders',
      'POST /webhooks/stripe',
      // The operator API (API keys)
      'GET /admin/key',
      'GET /admin/audit',
      'GET /admin/orders',
      'GET /admin/orders/{orderId}',
      'GET /admin/stats/orders',
      'POST /admin/orders/{orderId}/refunds',
      'POST /admin/orders/{orderId}/capture',
      'POST /admin/orders/{orderId}/void',
      'GET /admin/drift',
      'POST /admin/drift/{id}/resolve',
      'GET /admin/dlq',
      'POST /admin/dlq/replay',
      'GET /admin/webhooks/endpoints',
      'POST /admin/webhooks/endpoints',
      'POST /admin/webhooks/endpoints/{id}/rotate',
      'POST /admin/webhooks/endpoints/{id}/disable',
      'POST /admin/webhooks/endpoints/{id}/enable',
      'GET /admin/webhooks/deliveries',
      'POST /admin/webhooks/deliveries/{id}/redeliver',
    ].sort(),
  );
  // Both ways: everything documented is forwarded, and every operator route the gateway forwards is documented.
  for (const { method, route } of operations()) {
    const forwarded = route.startsWith('/admin/')
      ? adminService(method, concrete(route)) !== undefined
      : isPublicRoute(method, concrete(route));
    expect([method, route, forwarded]).toEqual([method, route, true]);
  }
  for (const [method, pattern] of ADMIN_ROUTES)
    expect([
      method,
      String(pattern),
      operations().some((o) => o.method === method && pattern.test(concrete(o.route))),
    ]).toEqual([method, String(pattern), true]);
});

test('every operation says its auth, its errors as problem+json, and the headers it takes', () => {
  for (const { route, op } of operations()) {
    const problems = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
    // Its own reasons to refuse, beyond the ones the gateway and the service runtime add to every route.
    const own = problems.filter(
      ([status]) => !['401', '413', '415', '429', '502', '503', '504'].includes(status),
    );
    // Every operation that takes input says how it refuses bad input (GET /admin/key takes none).
    if (op.parameters.length > 0 || op.requestBody !== undefined)
      expect([route, own.length > 0]).toEqual([route, true]);
    for (const [, answer] of problems)
      expect(Object.keys(answer.content ?? {})).toEqual(['application/problem+json']);
    const signedIn = ![
      '/users/signup',
      '/users/signin',
      '/users/refresh',
      '/users/signout',
      '/users/password-reset',
      '/users/password-reset/confirm',
      '/users/verify-email',
      '/webhooks/stripe',
    ].includes(route);
    expect([route, op.security.length > 0]).toEqual([route, signedIn]);
    if (signedIn) expect(Object.keys(op.responses)).toContain('401');
  }
  const create = spec.paths['/orders/create']!.post!;
  expect(create.parameters).toContainEqual(
    expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
  );
  expect(spec.paths['/webhooks/stripe']!.post!.parameters).toContainEqual(
    expect.objectContaining({ name: 'Stripe-Signature', in: 'header', required: true }),
  );
});

test('the answers fuzzing cannot reach have the documented shape: a paid order cancelled, a signed webhook', async () => {
  const { orderId, auth } = await e2e.paidOrder();
  const cancel = await e2e.post(`/orders/${orderId}/cancel`, undefined, auth);
  expect(Object.keys(spec.paths['/orders/{orderId}/cancel']!.post!.responses)).toContain(
    String(cancel.status),
  );
  expect(cancelAnswerSchema.parse(cancel.body)).toEqual(expect.objectContaining({ orderId }));

  const event = JSON.stringify({
    id: 'evt_contract',
    object: 'event',
    type: 'customer.created',
    created: 1,
    data: { object: {} },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', cfg.STRIPE_WEBHOOK_SECRET).update(`${t}.${event}`).digest('hex');
  const webhook = await fetch(`${gateway}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'stripe-signature': `t=${t},v1=${v1}`, 'content-type': 'application/json' },
    body: event,
  });
  expect(webhook.status).toBe(200);
  expect(webhookAnswerSchema.parse(await webhook.json())).toEqual({ received: true });
});

test('GET /docs is Swagger UI served by the gateway itself, nothing from a CDN', async () => {
  const page = await fetch(`${gateway}/docs`);
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy')!;
  expect(csp).toContain("script-src 'self';");
  expect(csp).not.toMatch(/https?:/);
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui-bundle.js', '/docs/init.js']));
  for (const asset of assets) {
    expect(asset.startsWith('/docs/')).toBe(true);
    expect([asset, (await fetch(`${gateway}${asset}`)).status]).toEqual([asset, 200]);
  }
});

test('the docs page renders every operation in a browser, with no CSP violation or script error', async () => {
  const browser = await chromium.launch({ executablePath: chromiumBinary() });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${gateway}/docs`);
    const count = operations().length;
    await page
      .locator('.opblock')
      .nth(count - 1)
      .waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBe(count);
    expect(await page.locator('.info .title').textContent()).toContain('Paystream API');
    fs.mkdirSync(path.dirname(ARTIFACTS), { recursive: true });
    await page.screenshot({ path: path.join(path.dirname(ARTIFACTS), 'docs.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
}, 60_000);

test('schemathesis finds no server error and no answer that breaks the spec', async () => {
  const buyer = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
  // The operator API is fuzzed with a key holding every scope: each operation with the credential its
  // security scheme names (schemathesis' OpenAPI-aware auth), and `ignored_auth` checks each refuses none.
  const made = await e2e.ops(
    'keys',
    'create',
    '--name',
    'contract fuzzing',
    '--scopes',
    OPERATOR_SCOPES.join(','),
  );
  expect(made.code).toBe(0);
  const { key } = JSON.parse(made.out) as { key: string };
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const config = path.join(ARTIFACTS, 'schemathesis.toml');
  fs.writeFileSync(
    config,
    [
      '[auth.openapi.bearerAuth]',
      `bearer = "${(buyer.auth.authorization ?? '').replace(/^Bearer /, '')}"`,
      '[auth.openapi.operatorKey]',
      `bearer = "${key}"`,
    ].join('\n'),
  );
  const args = [
    '--config-file',
    config,
    'run',
    `${gateway}/openapi.json`,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    '30',
    // One worker: with threads, CPython before 3.11.8 can crash in ast.parse inside hypothesis
    // ("AST constructor recursion depth mismatch", cpython#106905), a schemathesis error, not ours.
    '--workers',
    '1',
    '--request-timeout',
    '15',
    '--report',
    'junit',
    '--report-dir',
    ARTIFACTS,
  ];
  try {
    const run = await promisify(execFile)(await schemathesisBinary(), args, {
      cwd: ARTIFACTS, // its own cache (.schemathesis/) goes there too
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => err);
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    fs.writeFileSync(path.join(ARTIFACTS, 'output.txt'), output); // the whole report, kept with CI's artifacts
    const counts = /(\d+) generated, (\d+) passed/.exec(output);
    if (!counts || ('code' in run && run.code))
      throw new Error(`schemathesis failed:\n${output.slice(-6000)}`);
    const [, generated, passed] = counts.map(Number) as [number, number, number];
    expect(generated).toBeGreaterThan(300);
    expect(passed).toBe(generated);
    expect(output).not.toMatch(/\d+ failed/);
    // Signed in where it should be: no operator operation answered only 401/403 (sign-in itself does, with
    // the made-up credentials it is fuzzed with).
    const unauthenticated = output.split('Authentication failed')[1]?.split('💡')[0] ?? '';
    expect(unauthenticated.match(/^\s+- \w+ \S+/gm)?.map((l) => l.trim()) ?? []).not.toEqual(
      expect.arrayContaining([expect.stringContaining('/admin/')]),
    );
    const report = fs.readdirSync(ARTIFACTS).find((f) => f.endsWith('.xml'))!;
    const junit = fs.readFileSync(path.join(ARTIFACTS, report), 'utf8');
    expect(junit).toMatch(/failures="0"/);
    // Every operation was exercised, not only loaded.
    expect(output).toMatch(new RegExp(`Tested: ${operations().length}\\b`));
  } finally {
    fs.rmSync(config, { force: true }); // it holds a key
    await disableWebhookEndpoints(''); // whatever the fuzzer managed to register
  }
}, 420_000);
