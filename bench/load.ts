/** The offered load: users with a card on file, then every order through the gateway. */
import { json, pool, post } from './client';
import { verifyByMail } from '../test/support';
import { CONCURRENCY, ORDERS_PER_USER, USERS, runId } from './settings';

export interface BenchUser {
  email: string;
  token: string;
  userId: string;
}

export interface PlacedOrder {
  orderId: string;
  token: string;
}

export interface Load {
  /** Orders offered (users × orders per user). */
  offered: number;
  /** Orders the gateway accepted (201, or 200 for a repeated Idempotency-Key). */
  orders: PlacedOrder[];
  rejected: number;
  /** Milliseconds per POST /orders/create, as the client saw it. */
  createLatency: number[];
  /** From the first POST to the last answer. */
  loadSeconds: number;
}

/** 1. USERS users, signed up and signed in through the gateway, each with a Visa card on file. */
export async function signUpUsers(gatewayUrl: string): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  await pool(
    Array.from({ length: USERS }, (_, i) => i),
    8,
    async (i) => {
      const email = `bench-${runId}-${i}@example.test`;
      const password = `bench-password-${runId}`;
      await json(await post(`${gatewayUrl}/users/signup`, { email, password, name: `Bench ${i}` }));
      await verifyByMail(gatewayUrl, email); // payment emails go to verified addresses only
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
  return users;
}

/** 2. ORDERS_PER_USER orders per user through the gateway, CONCURRENCY in flight. */
export async function placeOrders(gatewayUrl: string, users: BenchUser[]): Promise<Load> {
  const jobs = users.flatMap((u) => Array.from({ length: ORDERS_PER_USER }, (_, n) => ({ user: u, n })));
  const createLatency: number[] = [];
  const orders: PlacedOrder[] = [];
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
  return { offered: jobs.length, orders, rejected, createLatency, loadSeconds };
}
