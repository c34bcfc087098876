/**
 * `npm run bench`: drives users × orders through the gateway against the real local stack and prints figures.
 * Not a test: it asserts nothing and never fails on a slow figure; it measures and writes bench/results/latest.json.
 *
 *   BENCH_USERS=20 BENCH_ORDERS_PER_USER=25 BENCH_CONCURRENCY=32 npm run bench   (burst: a queue draining)
 *   npm run bench -- --rate 10,20,40,60 --duration 30                         (open loop: sweep.ts)
 *   npm run bench -- --startup                                                  (start-up time and idle RSS)
 *
 * It starts the stack and the five services itself (unless BENCH_GATEWAY_URL points at running ones).
 * The steps live beside it: settings, client (HTTP), load, drain, measure, report.
 */
import { up } from '../stack';
import { startServices, type ServiceSet } from '../test/support/services';
import { followToFinal, waitForEmails } from './drain';
import { placeOrders, signUpUsers } from './load';
import { lagByGroup, measureGatewayOverhead, rssSampler } from './measure';
import { announce, buildResults, printResults, printServicesTail, writeResults } from './report';
import { cfg } from './settings';
import { runStartup } from './startup';
import { parseSweep, runSweep } from './sweep';
import { WORKER_METRICS_PORTS } from './worker-metrics';

interface Target {
  gatewayUrl: string;
  orderUrl: string;
  /** The services this run started, if it started them. */
  services?: ServiceSet;
}

/** The stack and the five services, unless BENCH_GATEWAY_URL (and BENCH_ORDER_URL) point at running ones. */
async function startStackAndServices(): Promise<Target> {
  const gatewayUrl = process.env.BENCH_GATEWAY_URL;
  if (gatewayUrl) return { gatewayUrl, orderUrl: process.env.BENCH_ORDER_URL ?? cfg.ORDER_SERVICE_URL };
  await up();
  // The bench offers more than a real client would; the per-client limit is not what it measures.
  const services = await startServices(cfg.GATEWAY_PORT, {
    GATEWAY_RATE_LIMIT: '10000000',
    SIGNUPS_PER_CLIENT: '10000000',
    SIGNINS_PER_CLIENT: '10000000',
    CARDS_PER_CLIENT: '10000000',
    SETUP_INTENTS_PER_CLIENT: '10000000',
    PAYMENT_WORKER_METRICS_PORT: String(WORKER_METRICS_PORTS.payment),
    NOTIFICATION_WORKER_METRICS_PORT: String(WORKER_METRICS_PORTS.notification),
  });
  return { services, gatewayUrl: services.url('gateway'), orderUrl: services.url('order') };
}

async function main(): Promise<void> {
  if (process.argv.includes('--startup')) {
    await up();
    return runStartup();
  }
  const sweep = parseSweep(process.argv.slice(2));
  const target = await startStackAndServices();
  const rss = rssSampler(target.services?.running ?? []);
  try {
    if (sweep) {
      const users = await signUpUsers(target.gatewayUrl);
      const services = (target.services?.running ?? []).map((s) => ({ name: s.name, pid: s.child.pid }));
      await runSweep(sweep, { gatewayUrl: target.gatewayUrl, services }, users);
      return;
    }
    announce();
    const users = await signUpUsers(target.gatewayUrl);
    const load = await placeOrders(target.gatewayUrl, users);
    const drain = await followToFinal(target.gatewayUrl, load.orders);
    const { emails, emailedBy } = await waitForEmails(load.orders.length, drain.deadline);
    const overhead = await measureGatewayOverhead(target, load.orders[0]!, users[0]!.userId);
    const lag = await lagByGroup();
    const results = buildResults({ load, drain, emails, emailedBy, overhead, lag, peakRss: rss.peak });
    printResults(results);
    writeResults(results);
  } catch (err) {
    await printServicesTail(target.services);
    throw err;
  } finally {
    rss.stop();
    await target.services?.stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
