import {
  isFinal,
  ORDER_STATUSES,
  PAYMENT_OUTCOMES,
  statusAfter,
  statusesAccepting,
  transition,
  type OrderStatus,
  type PaymentOutcome,
} from '../../src/domain/order-status';

/**
 * Every (status, outcome) pair, written out by hand: `→x` moves to x, `=` is an idempotent repeat
 * (already there), `✗` is refused. The table in the code must agree with this one cell by cell.
 */
const EXPECTED: Record<OrderStatus, Record<PaymentOutcome, string>> = {
  // prettier-ignore
  pending:            { requires_action: '→requires_action', succeeded: '→paid', failed: '→failed', cancelled: '→cancelled', partially_refunded: '✗', refunded: '✗' },
  // prettier-ignore
  requires_action:    { requires_action: '=', succeeded: '→paid', failed: '→failed', cancelled: '→cancelled', partially_refunded: '✗', refunded: '✗' },
  // prettier-ignore
  paid:               { requires_action: '✗', succeeded: '=', failed: '✗', cancelled: '✗', partially_refunded: '→partially_refunded', refunded: '→refunded' },
  // prettier-ignore
  failed:             { requires_action: '✗', succeeded: '✗', failed: '=', cancelled: '✗', partially_refunded: '✗', refunded: '✗' },
  // prettier-ignore
  cancelled:          { requires_action: '✗', succeeded: '✗', failed: '✗', cancelled: '=', partially_refunded: '✗', refunded: '✗' },
  // prettier-ignore
  partially_refunded: { requires_action: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '→partially_refunded', refunded: '→refunded' },
  // prettier-ignore
  refunded:           { requires_action: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '✗', refunded: '=' },
};

function cell(from: OrderStatus, outcome: PaymentOutcome): string {
  const t = transition(from, outcome);
  return t.kind === 'move' ? `→${t.to}` : t.kind === 'repeat' ? '=' : '✗';
}

describe('order status transitions', () => {
  const pairs = ORDER_STATUSES.flatMap((from) => PAYMENT_OUTCOMES.map((outcome) => [from, outcome] as const));

  it.each(pairs)('%s + %s', (from, outcome) => {
    expect(cell(from, outcome)).toBe(EXPECTED[from][outcome]);
  });

  it('covers every status and outcome', () => {
    expect(pairs).toHaveLength(7 * 6);
  });

  it('lists, for the guarded UPDATE, exactly the statuses each outcome moves from', () => {
    for (const outcome of PAYMENT_OUTCOMES) {
      const expected = ORDER_STATUSES.filter((from) => EXPECTED[from][outcome].startsWith('→'));
      expect({ outcome, from: statusesAccepting(outcome) }).toEqual({ outcome, from: expected });
      expect(EXPECTED[expected[0]!][outcome]).toBe(`→${statusAfter(outcome)}`);
    }
  });

  it('never moves a final order, and only failed, cancelled and refunded are final', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['failed', 'cancelled', 'refunded']);
    for (const from of ORDER_STATUSES.filter(isFinal))
      for (const outcome of PAYMENT_OUTCOMES) expect(transition(from, outcome).kind).not.toBe('move');
  });

  it('never moves a paid order back to pending-side states', () => {
    for (const outcome of ['requires_action', 'failed', 'cancelled'] as const)
      expect(transition('paid', outcome).kind).toBe('refused');
  });
});
