/** Figures taken beside the load: peak memory, the gateway's overhead, consumer lag; and percentiles. */
import fs from 'node:fs';
import { SERVICE_TOKEN_HEADER, USER_ID_HEADER } from '@paystream/common/auth';
import { TOPICS } from '@paystream/common/events';
import { consumerLag, createKafka } from '@paystream/common/kafka';
import type { RunningService } from '../scripts/services';
import type { PlacedOrder } from './load';
import { OVERHEAD_SAMPLES, cfg } from './settings';

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

export function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    n: sorted.length,
  };
}

export type Summary = ReturnType<typeof summary>;

/** Peak resident memory per service, sampled from /proc while the run goes on. */
export function rssSampler(services: RunningService[]) {
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

/**
 * 4. Gateway overhead: the same GET, OVERHEAD_SAMPLES times each, direct to the order service (as
 * `userId`, with the service token) and through the gateway (with the order owner's token).
 */
export async function measureGatewayOverhead(
  urls: { gatewayUrl: string; orderUrl: string },
  sample: PlacedOrder,
  userId: string,
): Promise<{ direct: Summary; viaGateway: Summary }> {
  const direct: number[] = [];
  const viaGateway: number[] = [];
  for (let i = 0; i < OVERHEAD_SAMPLES; i++) {
    let t0 = performance.now();
    await (
      await fetch(`${urls.orderUrl}/status/${sample.orderId}`, {
        headers: { [USER_ID_HEADER]: userId, [SERVICE_TOKEN_HEADER]: cfg.SERVICE_TOKEN },
      })
    ).arrayBuffer();
    direct.push(performance.now() - t0);
    t0 = performance.now();
    await (
      await fetch(`${urls.gatewayUrl}/orders/status/${sample.orderId}`, {
        headers: { authorization: `Bearer ${sample.token}` },
      })
    ).arrayBuffer();
    viaGateway.push(performance.now() - t0);
  }
  return { direct: summary(direct), viaGateway: summary(viaGateway) };
}

/** 5. Consumer lag of each service's group at the end of the run. */
export async function lagByGroup(): Promise<Record<string, number>> {
  const admin = createKafka('bench', cfg).admin();
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
