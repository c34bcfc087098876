import fs from 'node:fs';
import path from 'node:path';
import { down, up } from '../../stack';
import type { PaymentEvent } from '@paystream/common/events';
import { eventually } from '../support';
import { ChaosHarness, type ScenarioResult } from './harness';
import type { FaultProxy, FaultRates } from '../support/stripe-proxy';

/**
 * `npm run test:chaos`: each scenario places orders through the gateway while one thing breaks, then
 * requires: every order final, paid orders == succeeded PaymentIntents == succeeded payment events
 * (so no card charged twice), and every customer told exactly once — by email, or parked on the DLQ.
 */
const ORDERS = Number(process.env.CHAOS_ORDERS ?? 300);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let harness: ChaosHarness;

beforeAll(async () => {
  harness = await ChaosHarness.setup();
}, 300_000);

afterAll(async () => {
  if (!harness) return;
  const table = harness.table();
  process.stdout.write(`\nchaos results\n${table}\n`);
  fs.mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  fs.writeFileSync(
    path.join(__dirname, '../../bench/results/chaos-latest.json'),
    JSON.stringify(harness.results, null, 2),
  );
  await harness.teardown();
}, 120_000);

function expectNothingLost(r: ScenarioResult) {
  expect({
    scenario: r.scenario,
    orders: r.orders,
    final: r.paid + r.failed,
    lost: r.lost,
    doubleCharged: r.doubleCharged,
    duplicateEvents: r.duplicateEvents,
    chargedOrders: r.chargedOrders,
    succeededEventOrders: r.succeededEventOrders,
    untold: r.untold,
  }).toEqual({
    scenario: r.scenario,
    orders: ORDERS,
    final: ORDERS,
    lost: 0,
    doubleCharged: 0,
    duplicateEvents: 0,
    chargedOrders: r.paid,
    succeededEventOrders: r.paid,
    untold: 0,
  });
  expect(r.paid).toBeGreaterThan(0);
}

// Placing, the fault and the drain: about a second and a half per order on this box, ten minutes at least.
const SCENARIO_TIMEOUT = Math.max(600_000, ORDERS * 1500);

/** Faults in front of Stripe for 8 s of the run; each named proxy counter must show they happened. */
async function stripeFaultsFor8Seconds(
  name: string,
  rates: Partial<FaultRates>,
  happened: (keyof FaultProxy['stats'])[],
): Promise<void> {
  const result = await harness.scenario(name, ORDERS, async ({ proxy }) => {
    proxy.setRates(rates);
    await sleep(8000);
    proxy.setRates({});
  });
  expectNothingLost(result);
  for (const counter of happened) expect(harness.proxy.stats[counter]).toBeGreaterThan(0);
}

describe('chaos', () => {
  it(
    'payment service killed (SIGKILL) mid-run and restarted',
    async () => {
      expectNothingLost(await harness.scenario('kill payment', ORDERS, () => harness.restart('payment')));
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'notification service killed mid-run and restarted',
    async () => {
      expectNothingLost(
        await harness.scenario('kill notification', ORDERS, () => harness.restart('notification')),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'Kafka broker restarted mid-run',
    async () => {
      expectNothingLost(
        await harness.scenario('restart kafka', ORDERS, async () => {
          await down(['kafka']);
          await sleep(2000);
          await up(['kafka']);
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'Temporal dev server restarted mid-run (its database kept)',
    async () => {
      expectNothingLost(
        await harness.scenario('restart temporal', ORDERS, async () => {
          await down(['temporal']);
          await sleep(2000);
          await up(['temporal']);
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'Stripe answers 500s and drops answers after charging, for a share of calls',
    () =>
      stripeFaultsFor8Seconds('stripe faults', { error500: 0.15, dropAfterForward: 0.1 }, [
        'droppedAfterForward',
        'failed500',
      ]),
    SCENARIO_TIMEOUT,
  );

  it(
    'SMTP down for a while, then back',
    async () => {
      expectNothingLost(
        await harness.scenario('smtp down', ORDERS, async ({ mail }) => {
          await mail.stop();
          await sleep(8000);
          await mail.start();
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'PostgreSQL restarted mid-run',
    async () => {
      expectNothingLost(
        await harness.scenario('restart postgres', ORDERS, async () => {
          await down(['postgres']);
          await sleep(2000);
          await up(['postgres']);
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'order service killed mid-run, its outbox relay with rows in flight, and restarted',
    async () => {
      let inFlight = -1;
      const result = await harness.scenario('kill order', ORDERS, async () => {
        // Rows committed and not yet on Kafka when the process dies: the restarted relay must send them.
        inFlight = await harness.unpublishedOutboxRows();
        await harness.restart('order');
      });
      process.stdout.write(`kill order: ${inFlight} outbox rows unpublished just before the kill\n`);
      expectNothingLost(result);
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'user service killed mid-run and restarted (payment details unreachable for a while)',
    async () => {
      expectNothingLost(await harness.scenario('kill user', ORDERS, () => harness.restart('user')));
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'replay after retention: every payment history deleted and order.create consumed again from the start',
    async () => {
      let replay = { secondIntents: -1, replayedOrders: -1, alarms: -1 };
      const result = await harness.scenario(
        'replay after retention',
        ORDERS,
        () => Promise.resolve(),
        async ({ orderIds, events }) => {
          const alarmsBefore = await harness.secondChargeAlarms();
          const intentsBefore = new Map(orderIds.map((id) => [id, harness.intentsCreated(id)]));
          await harness.forgetPayments(orderIds);
          await harness.replayOrderCreate();
          // Each forgotten order's new run finds it settled in the ledger and publishes it again, replayed.
          const ids = new Set(orderIds);
          const replayed = () =>
            new Set(
              events.messages
                .map((m) => JSON.parse(m.value) as PaymentEvent)
                .filter((e) => e.replayed && ids.has(e.orderId))
                .map((e) => e.orderId),
            );
          await eventually(
            () => {
              const n = replayed().size;
              if (n < orderIds.length) throw new Error(`${n}/${orderIds.length} replayed`);
            },
            Math.max(180_000, ORDERS * 600),
            1000,
          );
          replay = {
            secondIntents: orderIds.filter((id) => harness.intentsCreated(id) !== intentsBefore.get(id))
              .length,
            replayedOrders: replayed().size,
            alarms: (await harness.secondChargeAlarms()) - alarmsBefore,
          };
        },
      );
      process.stdout.write(`replay after retention: ${JSON.stringify(replay)}\n`);
      expectNothingLost(result);
      expect(replay).toEqual({ secondIntents: 0, replayedOrders: ORDERS, alarms: 0 });
      expect(result.resent).toBe(0); // a replayed outcome sends no email
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'Stripe slower than the activity timeout for a share of calls (the retry lands first)',
    // 25 s: past the SDK's 10 s and the activity's 20 s; the held call reaches Stripe after its retry.
    () => stripeFaultsFor8Seconds('stripe slow', { slow: 0.1, slowMs: 25_000 }, ['delayed']),
    SCENARIO_TIMEOUT,
  );
});
