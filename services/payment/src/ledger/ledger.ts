import type { DataSource } from 'typeorm';

/** A payment's state in the ledger; the last three are final (`authorized`: held, waiting for a capture). */
export type LedgerStatus =
  'claimed' | 'intent_created' | 'requires_action' | 'authorized' | 'succeeded' | 'failed' | 'cancelled';
export const FINAL_STATUSES: readonly LedgerStatus[] = ['succeeded', 'failed', 'cancelled'];
const FINAL_SQL = `('succeeded', 'failed', 'cancelled')`;

export interface PaymentRow {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  captureRequestId: string | null;
  paymentIntentId: string | null;
  status: LedgerStatus;
  capturedAmount: number;
  refundedAmount: number;
  failureReason: string | null;
  outcomeEventId: string | null;
  outcomeAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Money movements: charged (automatic capture), authorized / captured / released (manual capture: held, taken,
 * and what of the hold was never taken), refunded, and a dispute's dispute_withdrawn / dispute_reinstated.
 */
export type MovementKind =
  | 'charged'
  | 'authorized'
  | 'captured'
  | 'released'
  | 'refunded'
  | 'dispute_withdrawn'
  | 'dispute_reinstated';

/** What identifies an order's payment (the order.create event carries it). */
export interface OrderRef {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  captureMethod?: 'automatic' | 'manual';
}

export interface Movement {
  orderId: string;
  kind: MovementKind;
  stripeObjectId: string;
  amount: number;
  currency: string;
  occurredAt: Date;
}

export type DriftKind =
  /** A PaymentIntent for one of our orders that the ledger does not know (made behind Paystream's back). */
  | 'unknown_intent'
  /** A second intent of an order that Stripe charged: the customer paid twice. */
  | 'second_charge'
  /** Stripe charged the intent; the ledger (and so the order) says it failed or was cancelled. */
  | 'charged_but_failed'
  /** Stripe's amount or currency is not the ledger's. */
  | 'amount_mismatch'
  /** A payment still open past the threshold with no workflow left to finish it. */
  | 'stuck_payment'
  /** The order service's status contradicts the ledger's outcome. */
  | 'order_status_mismatch';

export interface DriftFinding {
  kind: DriftKind;
  orderId: string | null;
  stripeObjectId: string;
  ledgerAmount?: number | null;
  stripeAmount?: number | null;
  currency?: string | null;
  detail: string;
}

export interface DriftRow extends Required<DriftFinding> {
  id: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
}

const PAYMENT_COLUMNS = `order_id AS "orderId", user_id AS "userId", amount::int AS amount, currency,
  capture_method AS "captureMethod", capture_request_id AS "captureRequestId", payment_intent_id AS "paymentIntentId", status, captured_amount::int AS "capturedAmount",
  refunded_amount::int AS "refundedAmount", failure_reason AS "failureReason",
  outcome_event_id AS "outcomeEventId", outcome_at AS "outcomeAt", created_at AS "createdAt",
  updated_at AS "updatedAt"`;
const DRIFT_COLUMNS = `id::text AS id, kind, order_id AS "orderId", stripe_object_id AS "stripeObjectId",
  ledger_amount::int AS "ledgerAmount", stripe_amount::int AS "stripeAmount", currency, detail,
  first_seen_at AS "firstSeenAt", last_seen_at AS "lastSeenAt", resolved_at AS "resolvedAt", resolution`;

/**
 * The payment service's record of every cent, in its own PostgreSQL database. Every write is idempotent
 * (a retried activity, a replayed workflow and reconciliation may all say the same thing again): the
 * claim is an insert-if-absent, the intent is recorded only where none is, a movement is unique per
 * (kind, Stripe object), and a final status never changes.
 */
export class Ledger {
  constructor(private readonly db: DataSource) {}

  /**
   * The order's payment row, created `claimed` if there is none; answers the row as it now stands and
   * whether this call created it.
   */
  async claim(order: OrderRef): Promise<{ row: PaymentRow; fresh: boolean }> {
    const inserted = await this.db.query<unknown[]>(
      `INSERT INTO payments (order_id, user_id, amount, currency, capture_method) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [order.orderId, order.userId, order.amount, order.currency, order.captureMethod ?? 'automatic'],
    );
    return { row: (await this.payment(order.orderId))!, fresh: inserted.length > 0 };
  }

  private started?: Promise<Date>;

  /** When the ledger began: an order created before it was paid (or not) without a claim of its own. */
  epoch(): Promise<Date> {
    this.started ??= this.db
      .query<{ at: Date }[]>(`SELECT min(started_at) AS at FROM ledger_epoch`)
      .then((rows) => rows[0]?.at ?? new Date(0));
    return this.started;
  }

  async payment(orderId: string): Promise<PaymentRow | undefined> {
    const rows = await this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1`,
      [orderId],
    );
    return rows[0];
  }

  async paymentByIntent(intentId: string): Promise<PaymentRow | undefined> {
    const rows = await this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_intent_id = $1`,
      [intentId],
    );
    return rows[0];
  }

  /**
   * Records the order's one PaymentIntent, on an open payment only (claimed here if a run from before the
   * ledger never claimed it). Answers what the ledger holds after: this intent, one recorded before (then
   * the caller must not use its own), or a settled payment that takes no intent any more.
   */
  async recordIntent(
    order: OrderRef,
    intentId: string,
  ): Promise<{ intentId: string | null; status: LedgerStatus }> {
    const rows = await this.db.query<{ id: string }[]>(
      `INSERT INTO payments (order_id, user_id, amount, currency, payment_intent_id, status)
         VALUES ($1, $2, $3, $4, $5, 'intent_created')
       ON CONFLICT (order_id) DO UPDATE SET payment_intent_id = EXCLUDED.payment_intent_id,
         status = 'intent_created', updated_at = now()
         WHERE payments.payment_intent_id IS NULL AND payments.status NOT IN ${FINAL_SQL}
       RETURNING payment_intent_id AS id`,
      [order.orderId, order.userId, order.amount, order.currency, intentId],
    );
    if (rows[0]) return { intentId: rows[0].id, status: 'intent_created' };
    const row = (await this.payment(order.orderId))!;
    return { intentId: row.paymentIntentId, status: row.status };
  }

  /** The customer is asked to authenticate (3-D Secure): still open. */
  async recordRequiresAction(orderId: string): Promise<void> {
    await this.db.query(
      `UPDATE payments SET status = 'requires_action', updated_at = now()
         WHERE order_id = $1 AND status NOT IN ${FINAL_SQL}`,
      [orderId],
    );
  }

  /**
   * Stripe charged the intent: a `charged` movement (once per intent) and, for the order's own intent on an
   * open payment, `succeeded` with the amount Stripe received. A payment already failed or cancelled keeps
   * its status: a charge after that is reconciliation's `charged_but_failed`, never hidden. Answers whether
   * this call recorded the movement.
   */
  async recordCharge(
    charge: Omit<Movement, 'kind' | 'stripeObjectId'> & { paymentIntentId: string },
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query<unknown[]>(
        `INSERT INTO payment_movements (order_id, kind, stripe_object_id, amount, currency, occurred_at)
           VALUES ($1, 'charged', $2, $3, $4, $5) ON CONFLICT (kind, stripe_object_id) DO NOTHING RETURNING id`,
        [charge.orderId, charge.paymentIntentId, charge.amount, charge.currency, charge.occurredAt],
      );
      await tx.query(
        `UPDATE payments SET status = 'succeeded', captured_amount = $3, failure_reason = NULL, updated_at = now()
           WHERE order_id = $1 AND payment_intent_id = $2 AND status NOT IN ${FINAL_SQL}`,
        [charge.orderId, charge.paymentIntentId, charge.amount],
      );
      return inserted.length > 0;
    });
  }

  /**
   * A manual capture's authorization: an `authorized` movement (once per intent) and, for the order's own
   * intent on an open payment, the status `authorized`.
   */
  async recordAuthorization(
    held: Omit<Movement, 'kind' | 'stripeObjectId'> & { paymentIntentId: string },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.insertMovement(tx, { ...held, kind: 'authorized', stripeObjectId: held.paymentIntentId });
      await tx.query(
        `UPDATE payments SET status = 'authorized', updated_at = now()
           WHERE order_id = $1 AND payment_intent_id = $2 AND status NOT IN ${FINAL_SQL}`,
        [held.orderId, held.paymentIntentId],
      );
    });
  }

  /**
   * A manual capture: `captured` (keyed by the intent) and, when less was taken than held, `released` for the
   * rest (keyed by what released it: the refund Stripe makes of the uncaptured rest, or the intent). The
   * payment is `succeeded` with what was captured. Recorded once however often it is said.
   */
  async recordCapture(capture: {
    orderId: string;
    paymentIntentId: string;
    /** The request that asked for it, where known (a capture made in Stripe's dashboard has none). */
    requestId?: string;
    captured: number;
    released: number;
    releasedBy: string;
    currency: string;
    occurredAt: Date;
  }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { orderId, currency, occurredAt } = capture;
      await this.insertMovement(tx, {
        orderId,
        kind: 'captured',
        stripeObjectId: capture.paymentIntentId,
        amount: capture.captured,
        currency,
        occurredAt,
      });
      if (capture.released > 0)
        await this.insertMovement(tx, {
          orderId,
          kind: 'released',
          stripeObjectId: capture.releasedBy,
          amount: capture.released,
          currency,
          occurredAt,
        });
      await tx.query(
        `UPDATE payments SET status = 'succeeded', captured_amount = $3, failure_reason = NULL,
             capture_request_id = COALESCE(capture_request_id, $4), updated_at = now()
           WHERE order_id = $1 AND payment_intent_id = $2
             AND (status NOT IN ${FINAL_SQL} OR (status = 'succeeded' AND capture_request_id IS NULL))`,
        [orderId, capture.paymentIntentId, capture.captured, capture.requestId ?? null],
      );
    });
  }

  /** An authorization released whole (a void, a lapse): a `released` movement, keyed by the intent. */
  async recordRelease(release: Omit<Movement, 'kind' | 'stripeObjectId'> & { paymentIntentId: string }) {
    await this.insertMovement(this.db.manager, {
      ...release,
      kind: 'released',
      stripeObjectId: release.paymentIntentId,
    });
  }

  private async insertMovement(q: { query: DataSource['query'] }, m: Movement): Promise<boolean> {
    const inserted = await q.query<unknown[]>(
      `INSERT INTO payment_movements (order_id, kind, stripe_object_id, amount, currency, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, stripe_object_id) DO NOTHING RETURNING id`,
      [m.orderId, m.kind, m.stripeObjectId, m.amount, m.currency, m.occurredAt],
    );
    return inserted.length > 0;
  }

  /**
   * A dispute as last read from Stripe: its row (status, deadline, closed when decided) and the money it
   * moved — withdrawn once it is a chargeback (an inquiry, `warning_*`, withdraws nothing), reinstated once
   * won — each a movement keyed by the dispute, so reading it again records nothing twice.
   */
  async recordDispute(d: {
    disputeId: string;
    orderId: string;
    paymentIntentId: string;
    status: string;
    reason: string;
    amount: number;
    currency: string;
    evidenceDueBy: Date | null;
    openedAt: Date;
    open: boolean;
  }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO disputes (dispute_id, order_id, payment_intent_id, status, reason, amount, currency,
             evidence_due_by, opened_at, closed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN NULL ELSE now() END)
         ON CONFLICT (dispute_id) DO UPDATE SET status = EXCLUDED.status, evidence_due_by = EXCLUDED.evidence_due_by,
           closed_at = CASE WHEN $10 THEN NULL ELSE COALESCE(disputes.closed_at, now()) END, updated_at = now()`,
        [
          d.disputeId,
          d.orderId,
          d.paymentIntentId,
          d.status,
          d.reason.slice(0, 100),
          d.amount,
          d.currency,
          d.evidenceDueBy,
          d.openedAt,
          d.open,
        ],
      );
      const money = {
        orderId: d.orderId,
        stripeObjectId: d.disputeId,
        amount: d.amount,
        currency: d.currency,
      };
      if (!d.status.startsWith('warning_'))
        await this.insertMovement(tx, { ...money, kind: 'dispute_withdrawn', occurredAt: d.openedAt });
      if (d.status === 'won')
        await this.insertMovement(tx, { ...money, kind: 'dispute_reinstated', occurredAt: new Date() });
    });
  }

  /** The order's disputes, as last read from Stripe (the operator's timeline). */
  async disputesOf(orderId: string): Promise<Record<string, unknown>[]> {
    return this.db.query(
      `SELECT dispute_id AS "disputeId", status, reason, amount::int AS amount, currency,
          evidence_due_by AS "evidenceDueBy", opened_at AS "openedAt", closed_at AS "closedAt"
         FROM disputes WHERE order_id = $1 ORDER BY opened_at`,
      [orderId],
    );
  }

  /** Disputes not decided yet, for the `payment_disputes_open` gauge. */
  async openDisputes(): Promise<number> {
    const rows = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM disputes WHERE closed_at IS NULL`,
    );
    return rows[0]?.n ?? 0;
  }

  /** Which of these disputes the ledger has read, and whether each is still open. */
  async knownDisputes(disputeIds: string[]): Promise<Map<string, { open: boolean }>> {
    const rows = await this.db.query<{ id: string; open: boolean }[]>(
      `SELECT dispute_id AS id, closed_at IS NULL AS open FROM disputes WHERE dispute_id = ANY($1)`,
      [disputeIds],
    );
    return new Map(rows.map((r) => [r.id, { open: r.open }]));
  }

  /**
   * The outcome the workflow publishes, with the id of its event: a replay after Temporal forgot the order
   * publishes the same event again. The row is created if the order never got as far as a claim (cancelled
   * before the charge, or a run from before the ledger). A final status is never overwritten, and the event
   * id is kept only with the status it announced. Answers the status the ledger holds after.
   */
  async recordOutcome(
    outcome: OrderRef & {
      status: 'succeeded' | 'failed' | 'cancelled';
      eventId: string | null;
      paymentIntentId?: string;
      failureReason?: string;
    },
  ): Promise<LedgerStatus> {
    const rows = await this.db.query<{ status: LedgerStatus }[]>(
      `INSERT INTO payments (order_id, user_id, amount, currency, status, failure_reason, outcome_event_id,
           outcome_at, payment_intent_id, captured_amount)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, COALESCE((SELECT sum(amount) FROM payment_movements
           WHERE order_id = $1 AND kind IN ('charged', 'captured') AND stripe_object_id = $8), 0))
       ON CONFLICT (order_id) DO UPDATE SET
         status = CASE WHEN payments.status IN ${FINAL_SQL} THEN payments.status ELSE EXCLUDED.status END,
         failure_reason = CASE WHEN payments.status IN ${FINAL_SQL} THEN payments.failure_reason
                               ELSE EXCLUDED.failure_reason END,
         outcome_event_id = CASE
           WHEN payments.outcome_event_id IS NULL
             AND (payments.status NOT IN ${FINAL_SQL} OR payments.status = EXCLUDED.status)
           THEN EXCLUDED.outcome_event_id ELSE payments.outcome_event_id END,
         outcome_at = COALESCE(payments.outcome_at, EXCLUDED.outcome_at),
         payment_intent_id = COALESCE(payments.payment_intent_id, EXCLUDED.payment_intent_id),
         captured_amount = GREATEST(payments.captured_amount, EXCLUDED.captured_amount),
         updated_at = now()
       RETURNING status`,
      [
        outcome.orderId,
        outcome.userId,
        outcome.amount,
        outcome.currency,
        outcome.status,
        outcome.failureReason ?? null,
        outcome.eventId,
        outcome.paymentIntentId ?? null,
      ],
    );
    return rows[0]!.status;
  }

  /**
   * Refunds Stripe lists as succeeded (a pending one may still fail, and a movement is forever): each
   * recorded once; the payment's refunded total follows.
   */
  async recordRefunds(
    orderId: string,
    refunds: { id: string; amount: number; currency: string; created: number }[],
  ): Promise<number> {
    if (!refunds.length) return 0;
    return this.db.transaction(async (tx) => {
      let added = 0;
      for (const r of refunds) {
        const inserted = await tx.query<unknown[]>(
          `INSERT INTO payment_movements (order_id, kind, stripe_object_id, amount, currency, occurred_at)
             VALUES ($1, 'refunded', $2, $3, $4, to_timestamp($5))
             ON CONFLICT (kind, stripe_object_id) DO NOTHING RETURNING id`,
          [orderId, r.id, r.amount, r.currency, r.created],
        );
        added += inserted.length;
      }
      if (added)
        await tx.query(
          `UPDATE payments SET refunded_amount = (SELECT COALESCE(sum(amount), 0) FROM payment_movements
             WHERE order_id = $1 AND kind = 'refunded'), updated_at = now() WHERE order_id = $1`,
          [orderId],
        );
      return added;
    });
  }

  async movements(orderId: string): Promise<Movement[]> {
    return this.db.query<Movement[]>(
      `SELECT order_id AS "orderId", kind, stripe_object_id AS "stripeObjectId", amount::int AS amount,
          currency, occurred_at AS "occurredAt"
         FROM payment_movements WHERE order_id = $1 ORDER BY id`,
      [orderId],
    );
  }

  async hasMovement(kind: MovementKind, stripeObjectId: string): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      `SELECT 1 FROM payment_movements WHERE kind = $1 AND stripe_object_id = $2`,
      [kind, stripeObjectId],
    );
    return rows.length > 0;
  }

  /**
   * Payments still open whose last change is older than `olderThanSeconds`, oldest first; those already
   * reported stuck are left out, so they cannot crowd out the rest.
   */
  async openPayments(olderThanSeconds: number, limit = 1000): Promise<PaymentRow[]> {
    return this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments p
         WHERE status IN ('claimed', 'intent_created', 'requires_action')
           AND updated_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM drift d WHERE d.kind = 'stuck_payment' AND d.order_id = p.order_id)
         ORDER BY updated_at LIMIT $2`,
      [olderThanSeconds, limit],
    );
  }

  /** Payments whose outcome was recorded in the window (and not in its last seconds), keyset-paged by order id. */
  async settledSince(
    sinceSeconds: number,
    notWithinSeconds: number,
    after = '',
    limit = 500,
  ): Promise<PaymentRow[]> {
    return this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments
         WHERE outcome_at > now() - make_interval(secs => $1) AND outcome_at < now() - make_interval(secs => $2)
           AND order_id > $3
         ORDER BY order_id LIMIT $4`,
      [sinceSeconds, notWithinSeconds, after, limit],
    );
  }

  /** The ledger rows of these intents (one query for a page of Stripe's list). */
  async paymentsByIntents(intentIds: string[]): Promise<Map<string, PaymentRow>> {
    const rows = await this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_intent_id = ANY($1)`,
      [intentIds],
    );
    return new Map(rows.map((r) => [r.paymentIntentId!, r]));
  }

  async paymentsByOrders(orderIds: string[]): Promise<Map<string, PaymentRow>> {
    const rows = await this.db.query<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = ANY($1)`,
      [orderIds],
    );
    return new Map(rows.map((r) => [r.orderId, r]));
  }

  /** Which of these Stripe objects the ledger has recorded as one of `kinds`. */
  async knownMovements(kinds: MovementKind[], stripeObjectIds: string[]): Promise<Set<string>> {
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT stripe_object_id AS id FROM payment_movements WHERE kind = ANY($1) AND stripe_object_id = ANY($2)`,
      [kinds, stripeObjectIds],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Records a finding once; seen again, only its last sighting moves. Answers whether it is new. */
  async recordDrift(f: DriftFinding): Promise<boolean> {
    const rows = await this.db.query<{ fresh: boolean }[]>(
      `INSERT INTO drift (kind, order_id, stripe_object_id, ledger_amount, stripe_amount, currency, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (kind, stripe_object_id) DO UPDATE SET last_seen_at = now(), detail = EXCLUDED.detail
       RETURNING (xmax = 0) AS fresh`,
      [
        f.kind,
        f.orderId,
        f.stripeObjectId,
        f.ledgerAmount ?? null,
        f.stripeAmount ?? null,
        f.currency ?? null,
        f.detail.slice(0, 1000),
      ],
    );
    return rows[0]!.fresh;
  }

  async drift(opts: { includeResolved?: boolean; limit?: number } = {}): Promise<DriftRow[]> {
    return this.db.query<DriftRow[]>(
      // drift.id: `id` alone would be DRIFT_COLUMNS' text alias, and '9' sorts after '10'.
      `SELECT ${DRIFT_COLUMNS} FROM drift ${opts.includeResolved ? '' : 'WHERE resolved_at IS NULL'}
         ORDER BY drift.id DESC LIMIT $1`,
      [opts.limit ?? 100],
    );
  }

  async driftById(id: string): Promise<DriftRow | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const rows = await this.db.query<DriftRow[]>(`SELECT ${DRIFT_COLUMNS} FROM drift WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Marks a finding resolved (once: resolving it again changes nothing). Answers the row, or undefined. */
  async resolveDrift(id: string, resolution: string): Promise<DriftRow | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    await this.db.query(
      `UPDATE drift SET resolved_at = now(), resolution = $2 WHERE id = $1 AND resolved_at IS NULL`,
      [id, resolution.slice(0, 500)],
    );
    return this.driftById(id);
  }

  /** Open findings by kind, for the `payment_drift_open` gauge. */
  async openDriftByKind(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ kind: string; n: number }[]>(
      `SELECT kind, count(*)::int AS n FROM drift WHERE resolved_at IS NULL GROUP BY kind`,
    );
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }
}
