import { randomUUID } from 'node:crypto';
import { E2E_PORTS, startE2E, type E2E } from './support';

/**
 * Orders that do not get paid, on the real stack: a declined card or no card ends in `failed` with the
 * reason (and no charge when there is no card); another user's order is not shown; bad input is refused.
 */
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.unhappyPaths);
}, 180_000);

afterAll(() => e2e?.stop());

describe('an order, end to end', () => {
  it('fails with a reason when the card is declined or there is no card', async () => {
    const declining = await e2e.customer({
      card: { number: '4000000000000341', expMonth: 12, expYear: 2034, cvc: '123' },
    });
    const declined = await e2e.post(
      '/orders/create',
      { items: [{ sku: 'book', quantity: 2, unitAmount: 1250 }], currency: 'usd' },
      declining.auth,
    );
    expect(declined.status).toBe(201);
    expect(declined.body.amount).toBe(2500);
    const d = await e2e.finalStatus(declined.body.orderId as string, declining.auth);
    expect(d.status).toBe('failed');
    expect(d.failureReason).toMatch(/declined/i);

    const cardless = await e2e.customer();
    const orphan = await e2e.post('/orders/create', { amount: 500, currency: 'usd' }, cardless.auth);
    const o = await e2e.finalStatus(orphan.body.orderId as string, cardless.auth);
    expect(o).toMatchObject({ status: 'failed', failureReason: 'No payment method on file' });
    expect(await e2e.intentsFor(orphan.body.orderId as string)).toHaveLength(0);
  });

  it('hides other users’ orders and validates input', async () => {
    const { post, services } = e2e;
    const alice = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const bob = await e2e.customer();
    const order = await post('/orders/create', { amount: 100, currency: 'usd' }, alice.auth);
    const peek = await fetch(`${services.url('gateway')}/orders/status/${order.body.orderId as string}`, {
      headers: bob.auth,
    });
    expect(peek.status).toBe(404);
    const unknown = await fetch(`${services.url('gateway')}/orders/status/${randomUUID()}`, {
      headers: bob.auth,
    });
    expect(unknown.status).toBe(404);
    for (const body of [
      { amount: 0, currency: 'usd' },
      { amount: 1.5, currency: 'usd' },
      { amount: 100, currency: 'dollars' },
      { amount: 100, items: [], currency: 'usd' },
      { currency: 'usd' },
      { amount: '100', currency: 'usd' },
      // Postgres refuses NUL in text: it used to surface as a 500.
      { items: [{ sku: 'SKU\u0000', quantity: 1, unitAmount: 100 }], currency: 'usd' },
      { items: [{ sku: 'SKU\ud800', quantity: 1, unitAmount: 100 }], currency: 'usd' },
    ]) {
      const res = await post('/orders/create', body, bob.auth);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const badKey = await post(
      '/orders/create',
      { amount: 100, currency: 'usd' },
      { ...bob.auth, 'idempotency-key': 'spaces are not allowed' },
    );
    expect(badKey.status).toBe(400);
    const reused = `reuse-${randomUUID()}`;
    expect(
      (
        await post(
          '/orders/create',
          { amount: 100, currency: 'usd' },
          { ...bob.auth, 'idempotency-key': reused },
        )
      ).status,
    ).toBe(201);
    expect(
      (
        await post(
          '/orders/create',
          { amount: 200, currency: 'usd' },
          { ...bob.auth, 'idempotency-key': reused },
        )
      ).status,
    ).toBe(409);
  });
});
