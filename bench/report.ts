/** What a run found: the results object, the table printed, and the JSON written under bench/results. */
import fs from 'node:fs';
import path from 'node:path';
import type { ServiceSet } from '../test/support/services';
import { retries } from './client';
import type { Drain } from './drain';
import type { Load } from './load';
import { summary, type Summary } from './measure';
import { CONCURRENCY, ORDERS_PER_USER, USERS, runId } from './settings';

export interface Measured {
  load: Load;
  drain: Drain;
  emails: number;
  /** When the email count stopped (all arrived, or its deadline passed). */
  emailedBy: number;
  overhead: { direct: Summary; viaGateway: Summary };
  lag: Record<string, number>;
  /** Sampled on as long as the run goes: the same object, not a copy. */
  peakRss: Record<string, number>;
}

export type Results = ReturnType<typeof buildResults>;

export function announce(): void {
  console.log(`[bench] ${USERS} users × ${ORDERS_PER_USER} orders, concurrency ${CONCURRENCY}, run ${runId}`);
}

export function buildResults({ load, drain, emails, emailedBy, overhead, lag, peakRss }: Measured) {
  const statuses = [...drain.final.values()];
  const lastFinal = Math.max(...statuses.map((s) => Date.parse(s.updatedAt)));
  const firstCreated = Math.min(...statuses.map((s) => Date.parse(s.createdAt)));
  const createToFinal = statuses.map((s) => Date.parse(s.updatedAt) - Date.parse(s.createdAt));
  const { direct: d, viaGateway: g } = overhead;
  const paid = statuses.filter((s) => s.status === 'paid').length;
  return {
    runId,
    at: new Date().toISOString(),
    config: { users: USERS, ordersPerUser: ORDERS_PER_USER, concurrency: CONCURRENCY },
    orders: {
      offered: load.offered,
      accepted: load.orders.length,
      rejected: load.rejected,
      retried503: retries.on503,
      final: drain.final.size,
      paid,
      emails,
    },
    throughput: {
      acceptedPerSecond: load.orders.length / load.loadSeconds,
      completedEndToEndPerSecond: drain.final.size / ((lastFinal - firstCreated) / 1000),
      emailedPerSecond: emails / ((emailedBy - firstCreated) / 1000),
    },
    latencyMs: { create: summary(load.createLatency), createToFinal: summary(createToFinal) },
    gatewayOverheadMs: { p50: g.p50 - d.p50, p99: g.p99 - d.p99, direct: d, viaGateway: g },
    peakRssMb: peakRss,
    consumerLag: lag,
  };
}

export function printResults(results: Results): void {
  const { orders } = results;
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
  const rows: [string, string][] = [
    [
      'orders offered / accepted / final / paid',
      `${orders.offered} / ${orders.accepted} / ${orders.final} / ${orders.paid}`,
    ],
    ['emails delivered', String(orders.emails)],
    ['503 answers retried by the client', String(orders.retried503)],
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
    ...Object.entries(results.peakRssMb).map(([name, mb]): [string, string] => [
      `peak RSS ${name} (MB)`,
      f(mb),
    ]),
    ...Object.entries(results.consumerLag).map(([group, n]): [string, string] => [
      `consumer lag ${group}`,
      String(n),
    ]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

/** bench/results/latest.json, and a copy named for the run's time. */
export function writeResults(results: Results): void {
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(
    path.join(out, `${results.at.replace(/[:.]/g, '-')}.json`),
    JSON.stringify(results, null, 2),
  );
  console.log(`\n[bench] written to bench/results/latest.json`);
}

/** On a failure: what the services said last is usually why (give their pipes a moment to flush). */
export async function printServicesTail(services: ServiceSet | undefined): Promise<void> {
  await new Promise((r) => setTimeout(r, 500));
  if (services)
    console.error(
      services.output
        .filter((l) => !/^(payment|notification): /.test(l))
        .slice(-20)
        .join('\n'),
    );
}
