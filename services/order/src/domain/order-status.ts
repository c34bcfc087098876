/**
 * An order's life, in one table. The payment workflow owns the money and reports what happened on
 * payment.event; the order service only moves an order along this table. Anything not in it is
 * refused, so a late or repeated event can never move an order backwards (a `failed` that arrives
 * after `paid` changes nothing).
 *
 *   pending ──requires_action──> requires_action
 *   pending | requires_action ──succeeded──> paid ──partially_refunded──> partially_refunded ──refunded──> refunded
 *   pending | requires_action ──failed──> failed        paid ──refunded──> refunded
 *   pending | requires_action ──cancelled──> cancelled
 */
export const ORDER_STATUSES = [
  'pending',
  'requires_action',
  'paid',
  'failed',
  'cancelled',
  'partially_refunded',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What the payment side reports about an order. */
export const PAYMENT_OUTCOMES = [
  'requires_action',
  'succeeded',
  'failed',
  'cancelled',
  'partially_refunded',
  'refunded',
] as const;
export type PaymentOutcome = (typeof PAYMENT_OUTCOMES)[number];

const TRANSITIONS: Record<OrderStatus, Partial<Record<PaymentOutcome, OrderStatus>>> = {
  pending: {
    requires_action: 'requires_action',
    succeeded: 'paid',
    failed: 'failed',
    cancelled: 'cancelled',
  },
  requires_action: { succeeded: 'paid', failed: 'failed', cancelled: 'cancelled' },
  paid: { partially_refunded: 'partially_refunded', refunded: 'refunded' },
  // A second partial refund stays here with a larger refunded amount; the last one makes it `refunded`.
  partially_refunded: { partially_refunded: 'partially_refunded', refunded: 'refunded' },
  failed: {},
  cancelled: {},
  refunded: {},
};

/** Final: no outcome moves the order any more. */
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
