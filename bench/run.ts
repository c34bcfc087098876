/**
 * `npm run bench`: drives users × orders through the gateway against the real local stack and prints figures.
 * Not a test: it asserts nothing and never fails on a slow figure; it measures and writes bench/results/latest.json.
 *
 *   BENCH_USERS=20 BENCH_ORDERS_PER_USER=25 BENCH_CONCURRENCY=32 npm run bench
 *
 * It starts the stack and the five services itself (unless BENCH_GATEWAY_URL points at running ones).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  consumerLag,
  createKafka,
  loadConfig,
  SERVICE_TOKEN_HEADER,
  TOPICS,
  USER_ID_HEADER,
} from '@paystream/common';
import { up } from '../temporal/stack';
import type { RunningService } from '../scripts/services';
import { startServices, type ServiceSet } from '../test/support/services';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const USERS = env('BENCH_USERS', 20);
const ORDERS_PER_USER = env('BENCH_ORDERS_PER_USER', 25);
const CONCURRENCY = env('BENCH_CONCURRENCY', 32);
const OVERHEAD_SAMPLES = env('BENCH_OVERHEAD_SAMPLES', 500);
const DRAIN_TIMEOUT_MS = env('BENCH_DRAIN_TIMEOUT_MS', 300_000);
const cfg = loadConfig();
const runId = randomUUID().slice(0, 8);

interface OrderStatus {
  orderId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    n: sorted.length,
  };
}

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** POST as a well-behaved client: a 503 is retried after its Retry-After (every retry counted). */
let retried503 = 0;
async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (res.status !== 503 || attempt === 5) return res;
    retried503++;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
  }
}

/** Peak resident memory per service, sampled from /proc while the run goes on. */
function rssSampler(services: RunningService[]) {
  const peak: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const s of services) {
      try {
        const status = fs.readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peak[s.name] = Math.max(peak[s.name] ?? 0, kb / 1024);
      } catch {
        // process gone
      }
    }
  }, 200);
  return { peak, stop: () => clearInterval(timer) };
}

/** Consumer lag of each service's group at the end of the run. */
async function lagByGroup(): Promise<Record<string, number>> {
  const admin = createKafka('bench', cfg.KAFKA_BROKERS).admin();
  await admin.connect();
  try {
    const groups: [string, string][] = [
      ['payment-service', TOPICS.orderCreate],
      ['order-service', TOPICS.paymentEvent],
      ['notification-service', TOPICS.paymentEvent],
    ];
    const lag: Record<string, number> = {};
    for (const [groupId, topic] of groups) lag[groupId] = await consumerLag(admin, groupId, topic);
    return lag;
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  let services: ServiceSet | undefined;
  let gatewayUrl = process.env.BENCH_GATEWAY_URL;
  let orderUrl = process.env.BENCH_ORDER_URL ?? cfg.ORDER_SERVICE_URL;
  if (!gatewayUrl) {
    await up();
    // The bench offers more than a real client would; the per-client limit is not what it measures.
    services = await startServices(cfg.GATEWAY_PORT, { GATEWAY_RATE_LIMIT: '10000000' });
    gatewayUrl = services.url('gateway');
    orderUrl = services.url('order');
  }
  const rss = rssSampler(services?.running ?? []);
  try {
    // 1. users, each with a card on file
    console.log(
      `[bench] ${USERS} users × ${ORDERS_PER_USER} orders, concurrency ${CONCURRENCY}, run ${runId}`,
    );
    const users: { email: string; token: string; userId: string }[] = [];
    await pool(
      Array.from({ length: USERS }, (_, i) => i),
      8,
      async (i) => {
        const email = `bench-${runId}-${i}@example.test`;
        const password = `bench-password-${runId}`;
        await json(await post(`${gatewayUrl}/users/signup`, { email, password, name: `Bench ${i}` }));
        const { token, userId } = await json<{ token: string; userId: string }>(
          await post(`${gatewayUrl}/users/signin`, { email, password }),
        );
        await json(
          await post(
            `${gatewayUrl}/users/add`,
            { paymentMethodId: 'pm_card_visa' },
            { authorization: `Bearer ${token}` },
          ),
        );
        users.push({ email, token, userId });
      },
    );

    // 2. offered load: every order through the gateway
    const jobs = users.flatMap((u) => Array.from({ length: ORDERS_PER_USER }, (_, n) => ({ user: u, n })));
    const createLatency: number[] = [];
    const orders: { orderId: string; token: string }[] = [];
    let rejected = 0;
    const loadStarted = performance.now();
    await pool(jobs, CONCURRENCY, async ({ user, n }) => {
      const t0 = performance.now();
      const res = await post(
        `${gatewayUrl}/orders/create`,
        { amount: 1000 + n, currency: 'usd' },
        { authorization: `Bearer ${user.token}`, 'idempotency-key': `${runId}-${user.userId}-${n}` },
      );
      createLatency.push(performance.now() - t0);
      if (res.status !== 201 && res.status !== 200) {
        rejected++;
        await res.body?.cancel();
        return;
      }
      const { orderId } = (await res.json()) as { orderId: string };
      orders.push({ orderId, token: user.token });
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    // 3. drain: every order final, every email delivered
    const final = new Map<string, OrderStatus>();
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (final.size < orders.length && Date.now() < drainDeadline) {
      await pool(
        orders.filter((o) => !final.has(o.orderId)),
        16,
        async (o) => {
          const s = await json<OrderStatus>(
            await fetch(`${gatewayUrl}/orders/status/${o.orderId}`, {
              headers: { authorization: `Bearer ${o.token}` },
            }),
          );
          if (s.status !== 'pending') final.set(o.orderId, s);
        },
      );
      if (final.size < orders.length) await new Promise((r) => setTimeout(r, 500));
    }
    const lastFinal = Math.max(...[...final.values()].map((s) => Date.parse(s.updatedAt)));
    const firstCreated = Math.min(...[...final.values()].map((s) => Date.parse(s.createdAt)));
    const createToFinal = [...final.values()].map((s) => Date.parse(s.updatedAt) - Date.parse(s.createdAt));
    let emails = 0;
    // Emails trail the final status; they get their own minute even when the status drain used it all up.
    const emailDeadline = Math.max(drainDeadline, Date.now() + 60_000);
    while (Date.now() < emailDeadline) {
      const res = await fetch(
        `http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/search?query=${encodeURIComponent(`to:bench-${runId}-`)}&limit=1`,
      );
      emails = ((await res.json()) as { messages_count: number }).messages_count;
      if (emails >= orders.length) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const emailedBy = Date.now();

    // 4. gateway overhead: the same GET direct to the order service and through the gateway
    const sample = orders[0]!;
    const direct: number[] = [];
    const viaGateway: number[] = [];
    const userId = users[0]!.userId;
    for (let i = 0; i < OVERHEAD_SAMPLES; i++) {
      let t0 = performance.now();
      await (
        await fetch(`${orderUrl}/status/${sample.orderId}`, {
          headers: { [USER_ID_HEADER]: userId, [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN },
        })
      ).arrayBuffer();
      direct.push(performance.now() - t0);
      t0 = performance.now();
      await (
        await fetch(`${gatewayUrl}/orders/status/${sample.orderId}`, {
          headers: { authorization: `Bearer ${sample.token}` },
        })
      ).arrayBuffer();
      viaGateway.push(performance.now() - t0);
    }
    const d = summary(direct);
    const g = summary(viaGateway);
    const lag = await lagByGroup();
    const paid = [...final.values()].filter((s) => s.status === 'paid').length;

    const results = {
      runId,
      at: new Date().toISOString(),
      config: { users: USERS, ordersPerUser: ORDERS_PER_USER, concurrency: CONCURRENCY },
      orders: {
        offered: jobs.length,
        accepted: orders.length,
        rejected,
        retried503,
        final: final.size,
        paid,
        emails,
      },
      throughput: {
        acceptedPerSecond: orders.length / loadSeconds,
        completedEndToEndPerSecond: final.size / ((lastFinal - firstCreated) / 1000),
        emailedPerSecond: emails / ((emailedBy - firstCreated) / 1000),
      },
      latencyMs: { create: summary(createLatency), createToFinal: summary(createToFinal) },
      gatewayOverheadMs: { p50: g.p50 - d.p50, p99: g.p99 - d.p99, direct: d, viaGateway: g },
      peakRssMb: rss.peak,
      consumerLag: lag,
    };

    const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
    const rows: [string, string][] = [
      [
        'orders offered / accepted / final / paid',
        `${jobs.length} / ${orders.length} / ${final.size} / ${paid}`,
      ],
      ['emails delivered', String(emails)],
      ['503 answers retried by the client', String(retried503)],
      ['accepted at gateway (orders/s)', f(results.throughput.acceptedPerSecond)],
      ['completed end-to-end (orders/s)', f(results.throughput.completedEndToEndPerSecond)],
      ['emailed (orders/s)', f(results.throughput.emailedPerSecond)],
      [
        'POST /create p50 / p95 / p99 (ms)',
        ['p50', 'p95', 'p99'].map((k) => f(results.latencyMs.create[k as 'p50'])).join(' / '),
      ],
      [
        'create → final p50 / p95 / p99 (ms)',
        ['p50', 'p95', 'p99'].map((k) => f(results.latencyMs.createToFinal[k as 'p50'])).join(' / '),
      ],
      [
        'gateway overhead p50 / p99 (ms)',
        `${f(results.gatewayOverheadMs.p50)} / ${f(results.gatewayOverheadMs.p99)}`,
      ],
      ...Object.entries(rss.peak).map(([name, mb]): [string, string] => [`peak RSS ${name} (MB)`, f(mb)]),
      ...Object.entries(lag).map(([group, n]): [string, string] => [`consumer lag ${group}`, String(n)]),
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log('');
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    const out = path.join(__dirname, 'results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(results, null, 2));
    fs.writeFileSync(
      path.join(out, `${results.at.replace(/[:.]/g, '-')}.json`),
      JSON.stringify(results, null, 2),
    );
    console.log(`\n[bench] written to bench/results/latest.json`);
  } catch (err) {
    // What the services said last is usually why (give their pipes a moment to flush).
    await new Promise((r) => setTimeout(r, 500));
    if (services)
      console.error(
        services.output
          .filter((l) => !/^(payment|notification): /.test(l))
          .slice(-20)
          .join('\n'),
      );
    throw err;
  } finally {
    rss.stop();
    await services?.stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
