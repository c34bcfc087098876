import { randomUUID } from 'node:crypto';
import { SERVICE_TOKEN_HEADER, USER_ID_HEADER } from '@paystream/common/auth';
import { initDataSource } from '@paystream/common/db';
import { createKafka } from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import type { Admin } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { createOrderApp } from '../src/app';
import { orderDataSource } from '../src/db/data-source';
import { applyPaymentEvent } from '../src/domain/orders';
import { cfg, serve, type RunningApp } from '../../../test/support';

/** GET /?limit&cursor&status (the gateway's GET /orders) on the real Postgres, over HTTP. */
let db: DataSource;
let admin: Admin;
let app: RunningApp;

interface Page {
  orders: { orderId: string; status: string; amount: number; refundedAmount: number }[];
  nextCursor: string | null;
}

const as = (userId: string) => ({ [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN, [USER_ID_HEADER]: userId });

async function create(userId: string, amount: number): Promise<string> {
  const res = await fetch(`${app.url}/create`, {
    method: 'POST',
    headers: { ...as(userId), 'content-type': 'application/json' },
    body: JSON.stringify({ amount, currency: 'eur' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { orderId: string }).orderId;
}

async function list(
  userId: string,
  query: string,
): Promise<{ status: number; body: Page & { title?: string } }> {
  const res = await fetch(`${app.url}/?${query}`, { headers: as(userId) });
  return { status: res.status, body: (await res.json()) as Page & { title?: string } };
}

beforeAll(async () => {
  db = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  admin = createKafka('order-history-test', cfg).admin();
  await admin.connect();
  app = await serve(
    createOrderApp({ logger: createLogger('order-history-test', 'silent'), db, kafkaAdmin: admin, cfg }),
  );
});

afterAll(async () => {
  await app.close();
  await admin.disconnect();
  await db.destroy();
});

describe('order history', () => {
  it('pages 45 orders newest first, with no duplicates or gaps while more are created, and only the caller’s', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const created: string[] = [];
    for (let i = 1; i <= 45; i++) {
      created.push(await create(alice, i * 100));
      if (i % 5 === 0) await create(bob, 100); // interleaved: another customer's orders
    }
    const bobs = new Set(((await list(bob, 'limit=100')).body.orders ?? []).map((o) => o.orderId));
    expect(bobs.size).toBe(9);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(alice, `limit=20${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.orders.map((o) => o.orderId));
      cursor = page.body.nextCursor;
      pages++;
      await create(alice, 99); // newer than every page already read: must not shift the next page
    } while (cursor);

    // The three orders created while paging are newer than the first page began, so they are not in it.
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
    expect(seen.some((id) => bobs.has(id))).toBe(false);
  });

  it('filters by status, and shows refundedAmount', async () => {
    const carol = randomUUID();
    const paid = await create(carol, 500);
    await create(carol, 700);
    await applyPaymentEvent(db, {
      eventId: randomUUID(),
      orderId: paid,
      userId: carol,
      status: 'succeeded',
      amount: 500,
      currency: 'eur',
      paymentIntentId: 'pi_history',
      occurredAt: new Date().toISOString(),
    });
    const page = await list(carol, 'status=paid');
    expect(page.body).toEqual({
      orders: [expect.objectContaining({ orderId: paid, status: 'paid', amount: 500, refundedAmount: 0 })],
      nextCursor: null,
    });
    expect((await list(carol, 'status=pending')).body.orders).toHaveLength(1);
  });

  it.each([
    ['a cursor it did not issue', 'cursor=bm90LWEtY3Vyc29y'],
    ['a cursor that is not base64', 'cursor=%00%01'],
    ['limit 0', 'limit=0'],
    ['limit 101', 'limit=101'],
    ['a limit that is not a number', 'limit=ten'],
    ['an unknown status', 'status=shipped'],
    ['an unknown parameter', 'sort=amount'],
    ['a repeated parameter', 'limit=1&limit=2'],
  ])('answers 400 problem+json for %s', async (_what, query) => {
    const res = await fetch(`${app.url}/?${query}`, { headers: as(randomUUID()) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('currencies Stripe can charge', () => {
  const post = (userId: string, body: unknown) =>
    fetch(`${app.url}/create`, {
      method: 'POST',
      headers: { ...as(userId), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses a currency Stripe cannot charge, or less than its minimum, naming the field, and stores nothing', async () => {
    const userId = randomUUID();
    const refused = [
      [{ amount: 2500, currency: 'xyz' }, 'currency'],
      [{ amount: 10, currency: 'jpy' }, 'amount'], // under Stripe's ¥50
      [{ amount: 1235, currency: 'kwd' }, 'amount'], // three decimals: Stripe takes multiples of 10
      [{ amount: 49, currency: 'usd' }, 'amount'],
    ] as const;
    for (const [body, field] of refused) {
      const res = await post(userId, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await res.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((e) => e.field)).toContain(field);
    }
    expect(await db.query(`SELECT 1 FROM orders WHERE user_id = $1`, [userId])).toEqual([]);
  });

  it('stores zero- and three-decimal amounts in Stripe’s minor units as given', async () => {
    const userId = randomUUID();
    for (const body of [
      { amount: 5000, currency: 'JPY' },
      { amount: 1230, currency: 'kwd' },
    ])
      expect((await post(userId, body)).status).toBe(201);
    const rows = await db.query<{ amount: number; currency: string }[]>(
      `SELECT amount, currency FROM orders WHERE user_id = $1 ORDER BY currency`,
      [userId],
    );
    expect(rows).toEqual([
      { amount: 5000, currency: 'jpy' },
      { amount: 1230, currency: 'kwd' },
    ]);
  });
});
