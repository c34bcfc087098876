/**
 * Open-loop load: orders arrive at a constant rate whatever the system does (a closed loop would slow down
 * with it and hide the knee), every order is followed to its final state on `payment.event`, and CPU and
 * memory are read per process for each rate step. The no-op Temporal floor is offered the same rates.
 */
import { randomUUID } from 'node:crypto';
import { TOPICS, type PaymentEvent } from '@paystream/common/events';
import { createKafka } from '@paystream/common/kafka';
import { post } from './client';
import type { BenchUser } from './load';
import { summary, type Summary } from './measure';
import { UsageWindow, type Roots } from './processes';
import { cfg, DRAIN_TIMEOUT_MS } from './settings';
import type { Floor } from './floor/floor';
import { workerMetricsWindow, type WorkerName, type WorkerStep } from './worker-metrics';

export interface RateStep {
  rate: number;
  offered: number;
  accepted: number;
  final: number;
  /** Orders that reached a final state per second, first offer to last final (≈ rate while it keeps up). */
  completedPerSecond: number;
  createMs: Summary;
  /** POST /orders/create sent → its final payment.event on Kafka. */
  toFinalMs: Summary;
  errors: number;
  allFinal: boolean;
  cpuMsPerOrder: Record<string, number>;
  cpuMsPerOrderTotal: number;
  peakRssMb: Record<string, number>;
  /** The SDK's worker metrics over the step (Paystream's workers only). */
  workers?: Partial<Record<WorkerName, WorkerStep>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Calls `offer(i)` at `rate` per second for `seconds`, never waiting for one to finish before the next. */
async function offerAtRate(
  rate: number,
  seconds: number,
  offer: (i: number) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const total = Math.round(rate * seconds);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(offer(i));
  }
  await Promise.all(inFlight);
}

/** Final payment.events (succeeded/failed) by order id, with the time they arrived here. */
async function followPaymentEvents() {
  const finals = new Map<string, number>();
  const kafka = createKafka(`bench-${randomUUID().slice(0, 8)}`, cfg);
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.paymentEvent, fromBeginning: false });
  const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
  await consumer.run({
    eachMessage: ({ message }) => {
      const event = JSON.parse(message.value?.toString('utf8') ?? '{}') as Partial<PaymentEvent>;
      if (event.orderId && (event.status === 'succeeded' || event.status === 'failed'))
        if (!finals.has(event.orderId)) finals.set(event.orderId, performance.now());
      return Promise.resolve();
    },
  });
  await joined;
  return { finals, stop: () => consumer.disconnect() };
}

/** Waits until every id is in `finals` or `timeoutMs` passes. */
async function waitFinal(ids: string[], finals: Map<string, number>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ids.every((id) => finals.has(id))) return true;
    await sleep(200);
  }
  return false;
}

function perOrder(cpu: Record<string, number>, orders: number) {
  const per = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / Math.max(1, orders))]));
  return { per, total: round(Object.values(cpu).reduce((a, b) => a + b, 0) / Math.max(1, orders)) };
}

/** One rate step through the gateway. */
export async function paystreamStep(
  gatewayUrl: string,
  users: BenchUser[],
  rate: number,
  seconds: number,
  roots: Roots,
): Promise<RateStep> {
  const follow = await followPaymentEvents();
  const workers = await workerMetricsWindow();
  const window = new UsageWindow(roots);
  const sent = new Map<string, number>();
  const createMs: number[] = [];
  let errors = 0;
  const runId = randomUUID().slice(0, 8);
  const first = performance.now();
  try {
    await offerAtRate(rate, seconds, async (i) => {
      const user = users[i % users.length]!;
      const t0 = performance.now();
      try {
        const res = await post(
          `${gatewayUrl}/orders/create`,
          { amount: 1000 + (i % 1000), currency: 'usd' },
          { authorization: `Bearer ${user.token}`, 'idempotency-key': `open-${runId}-${i}` },
        );
        createMs.push(performance.now() - t0);
        if (res.status !== 201) {
          errors++;
          await res.body?.cancel();
          return;
        }
        const { orderId } = (await res.json()) as { orderId: string };
        sent.set(orderId, t0);
      } catch {
        errors++;
      }
    });
    const ids = [...sent.keys()];
    // Drained before the next step (or given up on): a backlog would be charged to the next rate.
    const allFinal = await waitFinal(ids, follow.finals, DRAIN_TIMEOUT_MS);
    await sleep(2000); // the emails after the last payment: their CPU belongs to these orders
    const cpu = window.close();
    const finalTimes = ids.flatMap((id) => (follow.finals.has(id) ? [follow.finals.get(id)!] : []));
    const lastFinal = Math.max(...finalTimes, first);
    const { per, total } = perOrder(cpu, finalTimes.length);
    return {
      rate,
      offered: Math.round(rate * seconds),
      accepted: ids.length,
      final: finalTimes.length,
      completedPerSecond: round(finalTimes.length / Math.max(seconds, (lastFinal - first) / 1000)),
      createMs: roundSummary(summary(createMs)),
      toFinalMs: roundSummary(
        summary(ids.flatMap((id) => (follow.finals.has(id) ? [follow.finals.get(id)! - sent.get(id)!] : []))),
      ),
      errors,
      allFinal,
      cpuMsPerOrder: per,
      cpuMsPerOrderTotal: total,
      peakRssMb: window.peaks(),
      workers: await workers.close(),
    };
  } finally {
    window.close();
    await follow.stop();
  }
}

/**
 * One rate step of the no-op floor. Its Node side is this process' own CPU (not its descendants: the
 * services and servers it may have started are not the floor's).
 */
export async function floorStep(
  floor: Floor,
  rate: number,
  seconds: number,
  roots: Roots,
): Promise<RateStep> {
  const window = new UsageWindow(roots);
  const ownStart = process.cpuUsage();
  const latencies: number[] = [];
  let errors = 0;
  const first = performance.now();
  let lastFinal = first;
  await offerAtRate(rate, seconds, async () => {
    const t0 = performance.now();
    try {
      await floor.order();
      lastFinal = Math.max(lastFinal, performance.now());
      latencies.push(performance.now() - t0);
    } catch {
      errors++;
    }
  });
  const own = process.cpuUsage(ownStart);
  const cpu = { ...window.close(), 'floor (node)': (own.user + own.system) / 1000 };
  window.peakRssMb['floor (node)'] = process.memoryUsage.rss() / 2 ** 20;
  const { per, total } = perOrder(cpu, latencies.length);
  const offered = Math.round(rate * seconds);
  return {
    rate,
    offered,
    accepted: offered,
    final: latencies.length,
    completedPerSecond: round(latencies.length / Math.max(seconds, (lastFinal - first) / 1000)),
    createMs: roundSummary(summary([])),
    toFinalMs: roundSummary(summary(latencies)),
    errors,
    allFinal: latencies.length === offered,
    cpuMsPerOrder: per,
    cpuMsPerOrderTotal: total,
    peakRssMb: window.peaks(),
  };
}

function roundSummary(s: Summary): Summary {
  return { p50: round(s.p50), p95: round(s.p95), p99: round(s.p99), n: s.n };
}

/** The highest rate whose p99 create→final is under 1 s with every order final. */
export function knee(steps: RateStep[]): number | null {
  const ok = steps.filter((s) => s.allFinal && s.errors === 0 && s.toFinalMs.p99 < 1000);
  return ok.length ? Math.max(...ok.map((s) => s.rate)) : null;
}
