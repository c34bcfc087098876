/**
 * An order's life, in one table. The payment workflows own the money and report what happened on
 * payment.event; the order service only moves an order along this table. Anything not in it is
 * refused, so a late or repeated event can never move an order backwards (a `failed` that arrives
 * after `paid` changes nothing).
 *
 *   pending ──requires_action──> requires_action
 *   pending | requires_action ──authorized──> authorized          (manual capture: the card is held)
 *   pending | requires_action | authorized ──succeeded──> paid    (charged, or captured)
 *   pending | requires_action | authorized ──failed | cancelled──> failed | cancelled   (a void is cancelled)
 *   paid | partially_refunded | dispute_won ──partially_refunded──> partially_refunded ──refunded──> refunded
 *   paid | partially_refunded ──disputed──> disputed ──dispute_won──> dispute_won   (refundable again)
 *                                                   └──dispute_lost──> dispute_lost (final: the bank took it back)
 */
export const ORDER_STATUSES = [
  'pending',
  'requires_action',
  'authorized',
  'paid',
  'failed',
  'cancelled',
  'partially_refunded',
  'refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What the payment side reports about an order (payment.event's statuses but the notices). */
export const PAYMENT_OUTCOMES = [
  'requires_action',
  'authorized',
  'succeeded',
  'failed',
  'cancelled',
  'partially_refunded',
  'refunded',
  'disputed',
  'dispute_won',
  'dispute_lost',
] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

const TRANSITIONS: Record<OrderStatus, Partial<Record<PaymentOutcome, OrderStatus>>> = {
  pending: {
    requires_action: 'requires_action',
    authorized: 'authorized',
    succeeded: 'paid',
    failed: 'failed',
    cancelled: 'cancelled',
  },
  requires_action: { authorized: 'authorized', succeeded: 'paid', failed: 'failed', cancelled: 'cancelled' },
  authorized: { succeeded: 'paid', failed: 'failed', cancelled: 'cancelled' },
  paid: { partially_refunded: 'partially_refunded', refunded: 'refunded', disputed: 'disputed' },
  // A second partial refund stays here with a larger refunded amount; the last one makes it `refunded`.
  partially_refunded: {
    partially_refunded: 'partially_refunded',
    refunded: 'refunded',
    disputed: 'disputed',
  },
  disputed: { dispute_won: 'dispute_won', dispute_lost: 'dispute_lost' },
  dispute_won: { partially_refunded: 'partially_refunded', refunded: 'refunded' },
  failed: {},
  cancelled: {},
  refunded: {},
  dispute_lost: {},
};

/** Final: no outcome moves the order any more (failed, cancelled, refunded, dispute_lost). */
export const isFinal = (status: OrderStatus): boolean => Object.keys(TRANSITIONS[status]).length === 0;

export type Transition =
  | { kind: 'move'; to: OrderStatus }
  /** Already where this outcome leads (e.g. `succeeded` for a `paid` order): nothing to do. */
  | { kind: 'repeat' }
  | { kind: 'refused' };

export function transition(from: OrderStatus, outcome: PaymentOutcome): Transition {
  const to = TRANSITIONS[from][outcome];
  if (to && (to !== from || outcome === 'partially_refunded')) return { kind: 'move', to };
  if (Object.values(TRANSITIONS).some((next) => next[outcome] === from)) return { kind: 'repeat' };
  return { kind: 'refused' };
}

/** The statuses an outcome may move an order from, for a guarded `UPDATE … WHERE status = ANY(…)`. */
export function statusesAccepting(outcome: PaymentOutcome): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => transition(from, outcome).kind === 'move');
}

/** The status an outcome leads to (the same wherever it is accepted from). */
export function statusAfter(outcome: PaymentOutcome): OrderStatus {
  const to = ORDER_STATUSES.map((from) => TRANSITIONS[from][outcome]).find(Boolean);
  if (!to) throw new Error(`no status follows ${outcome}`);
  return to;
}

/**
 * Whether an outcome the order cannot take now can be taken once it moves on: a refund or a dispute of a
 * payment whose `succeeded` is still on its way (different workflows publish them; reconciliation republishes
 * late). Such an event waits for the order instead of being dropped; one no later status takes (anything of a
 * final order) is refused.
 */
export function arrivesEarly(from: OrderStatus, outcome: PaymentOutcome): boolean {
  if (transition(from, outcome).kind !== 'refused') return false;
  const seen = new Set<OrderStatus>([from]);
  const queue = Object.values(TRANSITIONS[from]);
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    if (transition(next, outcome).kind === 'move') return true;
    queue.push(...Object.values(TRANSITIONS[next]));
  }
  return false;
}
