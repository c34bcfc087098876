import {
  arrivesEarly,
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
  pending:            { requires_action: '→requires_action', authorized: '→authorized', succeeded: '→paid', failed: '→failed', cancelled: '→cancelled', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  requires_action:    { requires_action: '=', authorized: '→authorized', succeeded: '→paid', failed: '→failed', cancelled: '→cancelled', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  authorized:         { requires_action: '✗', authorized: '=', succeeded: '→paid', failed: '→failed', cancelled: '→cancelled', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  paid:               { requires_action: '✗', authorized: '✗', succeeded: '=', failed: '✗', cancelled: '✗', partially_refunded: '→partially_refunded', refunded: '→refunded', disputed: '→disputed', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  failed:             { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '=', cancelled: '✗', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  cancelled:          { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '=', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  partially_refunded: { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '→partially_refunded', refunded: '→refunded', disputed: '→disputed', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  refunded:           { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '✗', refunded: '=', disputed: '✗', dispute_won: '✗', dispute_lost: '✗' },
  // prettier-ignore
  disputed:           { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '✗', refunded: '✗', disputed: '=', dispute_won: '→dispute_won', dispute_lost: '→dispute_lost' },
  // prettier-ignore
  dispute_won:        { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '→partially_refunded', refunded: '→refunded', disputed: '✗', dispute_won: '=', dispute_lost: '✗' },
  // prettier-ignore
  dispute_lost:       { requires_action: '✗', authorized: '✗', succeeded: '✗', failed: '✗', cancelled: '✗', partially_refunded: '✗', refunded: '✗', disputed: '✗', dispute_won: '✗', dispute_lost: '=' },
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
    expect(pairs).toHaveLength(11 * 10);
  });

  it('lists, for the guarded UPDATE, exactly the statuses each outcome moves from', () => {
    for (const outcome of PAYMENT_OUTCOMES) {
      const expected = ORDER_STATUSES.filter((from) => EXPECTED[from][outcome].startsWith('→'));
      expect({ outcome, from: statusesAccepting(outcome) }).toEqual({ outcome, from: expected });
      expect(EXPECTED[expected[0]!][outcome]).toBe(`→${statusAfter(outcome)}`);
    }
  });

  it('never moves a final order, and only failed, cancelled, refunded and dispute_lost are final', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['failed', 'cancelled', 'refunded', 'dispute_lost']);
    for (const from of ORDER_STATUSES.filter(isFinal))
      for (const outcome of PAYMENT_OUTCOMES) expect(transition(from, outcome).kind).not.toBe('move');
  });

  it('never moves a paid order back to pending-side states', () => {
    for (const outcome of ['requires_action', 'authorized', 'failed', 'cancelled'] as const)
      expect(transition('paid', outcome).kind).toBe('refused');
  });

  it('refuses refunds while a dispute is open, and allows them again once it is won', () => {
    for (const outcome of ['partially_refunded', 'refunded'] as const) {
      expect(transition('disputed', outcome).kind).toBe('refused');
      expect(transition('dispute_won', outcome).kind).toBe('move');
      expect(transition('dispute_lost', outcome).kind).toBe('refused');
    }
  });
});

describe('events that arrive before the order can take them', () => {
  it('a refund or a dispute of a payment not yet applied waits; a final order refuses them', () => {
    expect(arrivesEarly('pending', 'refunded')).toBe(true);
    expect(arrivesEarly('requires_action', 'partially_refunded')).toBe(true);
    expect(arrivesEarly('authorized', 'disputed')).toBe(true);
    expect(arrivesEarly('paid', 'dispute_won')).toBe(true); // disputed is on its way
    for (const final of ['failed', 'cancelled', 'refunded', 'dispute_lost'] as const)
      for (const outcome of PAYMENT_OUTCOMES) expect(arrivesEarly(final, outcome)).toBe(false);
  });

  it('never holds back what moves or repeats now, nor what can never come after', () => {
    expect(arrivesEarly('pending', 'succeeded')).toBe(false); // moves now
    expect(arrivesEarly('paid', 'succeeded')).toBe(false); // a repeat
    expect(arrivesEarly('paid', 'requires_action')).toBe(false); // nothing after paid takes it
    expect(arrivesEarly('authorized', 'requires_action')).toBe(false);
  });
});
