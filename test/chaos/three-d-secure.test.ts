import { eventually } from '../support';
import {
  authenticate,
  E2E_PORTS,
  startE2EWithWebhooks,
  THREE_DS_CARD,
  type Customer,
  type E2E,
  type OrderStatus,
} from '../e2e/support';

/**
 * Chaos while payments wait for 3-D Secure: the payment service is SIGKILLed with every workflow waiting
 * for its customer, half the customers authenticate while it is down (their webhooks hit a dead service
 * and localstripe never redelivers), the other half never do. After the restart every authenticated
 * order must be paid — found by the re-read when the authentication window closes, even without the
 * webhook — every abandoned one failed with its intent cancelled, and no card charged twice.
 */
const ORDERS = Number(process.env.CHAOS_3DS_ORDERS ?? 20);
const AUTH_TIMEOUT_SECONDS = 15;
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2EWithWebhooks(E2E_PORTS.threeDSecureChaos, AUTH_TIMEOUT_SECONDS);
}, 180_000);

afterAll(() => e2e?.stop());

it('payment service killed while workflows wait for authentication: authenticated paid, abandoned failed, none charged twice', async () => {
  const buyers: Customer[] = [];
  for (let i = 0; i < 5; i++) buyers.push(await e2e.customer({ card: THREE_DS_CARD }));
  const orders: { orderId: string; buyer: Customer }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const buyer = buyers[i % buyers.length]!;
    const created = await e2e.post('/orders/create', { amount: 1000 + i, currency: 'EUR' }, buyer.auth);
    expect(created.status).toBe(201);
    orders.push({ orderId: created.body.orderId as string, buyer });
  }
  const waiting = await Promise.all(
    orders.map(({ orderId, buyer }) =>
      eventually(async () => {
        const s = await e2e.statusOf(orderId, buyer.auth);
        if (s.status !== 'requires_action') throw new Error(`${orderId} is ${s.status}`);
        return s;
      }, 60_000),
    ),
  );

  await e2e.services.stop('payment', 'SIGKILL');
  const authenticated = new Set<string>();
  for (const [i, { orderId }] of orders.entries()) {
    if (i % 2) continue;
    await authenticate(waiting[i]!.paymentIntentId!, waiting[i]!.nextAction!.clientSecret, true);
    authenticated.add(orderId);
  }
  await new Promise((r) => setTimeout(r, 3000)); // their webhooks arrive now, at a dead payment service
  await e2e.services.start('payment');

  const final: OrderStatus[] = await Promise.all(
    orders.map(({ orderId, buyer }) =>
      eventually(
        async () => {
          const s = await e2e.statusOf(orderId, buyer.auth);
          if (s.status === 'requires_action' || s.status === 'pending') throw new Error(`still ${s.status}`);
          return s;
        },
        (AUTH_TIMEOUT_SECONDS + 60) * 1000,
        500,
      ),
    ),
  );
  const outcome = await Promise.all(
    orders.map(async ({ orderId }, i) => {
      const intents = await e2e.intentsFor(orderId);
      return {
        authenticated: authenticated.has(orderId),
        status: final[i]!.status,
        failureReason: final[i]!.failureReason ?? null,
        intents: intents.length,
        charged: intents.filter((pi) => pi.status === 'succeeded').length,
        cancelled: intents.filter((pi) => pi.status === 'canceled').length,
      };
    }),
  );
  const expected = orders.map(({ orderId }) =>
    authenticated.has(orderId)
      ? { authenticated: true, status: 'paid', failureReason: null, intents: 1, charged: 1, cancelled: 0 }
      : {
          authenticated: false,
          status: 'failed',
          failureReason: 'authentication not completed',
          intents: 1,
          charged: 0,
          cancelled: 1,
        },
  );
  expect(outcome).toEqual(expected);
}, 300_000);
