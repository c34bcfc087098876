/**
 * What the payment workflow asks of the outside world. Implemented in services/payment/src/activities.ts;
 * the workflow imports these types only, so its bundle stays free of I/O code. Event and lookup shapes
 * are common's zod schemas (`import type`: erased, so no zod in the workflow bundle).
 */
import type { PaymentDetails } from '@paystream/common/contracts';
import type { NextAction, PaymentEvent } from '@paystream/common/events';
import type { PaymentInput } from './api/payment';
import type { DisputeState } from './api/disputes';

/** Error types the activities throw as non-retryable ApplicationFailures: retrying cannot help. */
export const PAYMENT_ERRORS = {
  detailsMissing: 'PaymentDetailsMissing',
  cardDeclined: 'CardDeclined',
  invalidRequest: 'InvalidPaymentRequest',
  authenticationRequired: 'AuthenticationRequired',
  /** A refund asked for more than is left on the payment (or of a payment that was never charged). */
  refundRefused: 'RefundRefused',
  /** A payment.event its own schema refuses: a bug, never retried. */
  invalidEvent: 'InvalidPaymentEvent',
  /** A capture the payment does not allow (not authorized, captured already, more than authorized). */
  captureRefused: 'CaptureRefused',
} as const;

/**
 * What the ledger holds for an order when a payment workflow starts (the gate before any charge):
 * nothing yet; an intent already created (confirm that one, never create a second); or a settled payment
 * (publish its recorded outcome again — under the event id it was first published with — and charge nothing).
 * A second run of the same order exists only once Temporal has forgotten the first one.
 */
export type PaymentClaim =
  | { state: 'new' }
  | { state: 'intent'; paymentIntentId: string }
  | {
      state: 'settled';
      status: 'succeeded' | 'failed' | 'cancelled';
      paymentIntentId?: string;
      failureReason?: string;
      /** Whether the outcome was announced before: then it goes out again marked `replayed` (no email). */
      announced: boolean;
      /** The outcome's event as first published, where the ledger holds it. */
      eventId?: string;
    };

/**
 * What a confirm ended in: paid; authorized (manual capture: the amount is held, nothing taken); or the bank
 * wants the customer to authenticate first.
 */
export type ConfirmResult =
  { status: 'succeeded' } | { status: 'authorized' } | { status: 'requires_action'; nextAction: NextAction };

/** A PaymentIntent's state as Stripe reports it, reduced to what the workflow decides on. */
export type IntentState =
  /** Charged; `capturedAmount` when a manual capture took it (perhaps less than authorized). */
  | { status: 'succeeded'; capturedAmount?: number }
  /** Manual capture: authorized and waiting to be captured. */
  | { status: 'authorized' }
  | { status: 'failed'; failureReason: string }
  /** Still waiting for the customer (requires_action) or for the bank (processing). */
  | { status: 'pending' };

export interface CreateIntentInput {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  customerId: string;
  paymentMethodId: string;
  /** `manual`: authorize only (capture_method=manual); absent: charge at once. */
  captureMethod?: 'manual';
}

export interface CaptureInput {
  orderId: string;
  paymentIntentId: string;
  /** The capture request that asked for it (`expiry` when the authorization's policy did). */
  requestId: string;
  /** What to take; all that is authorized when absent. */
  amount?: number;
}

/** One refund of the order's charge, as Stripe holds it. */
export interface RefundRecord {
  id: string;
  amount: number;
  /** Unix seconds: refunds are announced in Stripe's order. */
  created: number;
  /** `metadata.requestKey` of refunds Paystream made: how a retried request finds its refund. */
  requestKey?: string;
}

/** The payment's refunds, read from Stripe: the ledger every new refund is checked against. */
export interface RefundLedger {
  /** What was taken (less than the order after a partial capture): refunds count against it. */
  amount: number;
  currency: string;
  /** From the PaymentIntent's metadata (Paystream sets it when it creates the intent). */
  userId: string;
  /**
   * Refunds that count (succeeded or pending), oldest first. Not the release of a partial capture's
   * uncaptured rest, which Stripe makes as a refund of the charge.
   */
  refunds: RefundRecord[];
  /** A dispute (chargeback) is open on the charge: no refund now (the bank holds the money already). */
  disputeOpen?: boolean;
}

export interface CreateRefundInput {
  orderId: string;
  paymentIntentId: string;
  amount: number;
  /** `refund-<orderId>-<requestId>`: Stripe's idempotency key and the refund's `metadata.requestKey`. */
  requestKey: string;
  reason?: string;
}

/**
 * The `kind` of a refund's payment.event: global, not per workflow run, so the same Stripe refund is one
 * event whichever workflow (payment, refunds, a later run) announces it.
 */
export const refundEventKind = (refundId: string): string => `refund:${refundId}`;

/** A payment.event as the workflow writes it; the publishing activity gives it its id. */
export type PaymentEventDraft = Omit<PaymentEvent, 'eventId'> & { eventId?: string };

/**
 * What the workflow needs of the customer's payment details: Stripe's ids, nothing that names or
 * describes the person or the card (an activity's result is kept in the workflow's history).
 */
export type PaymentMethodRef = Pick<PaymentDetails, 'stripeCustomerId' | 'paymentMethodId'>;

export interface PaymentActivities {
  /** Claims the order in the payment ledger (insert if absent) and answers what the ledger already holds. */
  claimPayment(order: PaymentInput): Promise<PaymentClaim>;
  /** GET user /get/:userId with the service token; 404 → PaymentDetailsMissing. */
  getPaymentDetails(userId: string): Promise<PaymentMethodRef>;
  /**
   * Creates (never confirms) the PaymentIntent, idempotency key `order-<orderId>`, and records it in the
   * ledger; returns its id — the one the ledger holds, so a retry after a lost answer never makes a second.
   */
  createPaymentIntent(input: CreateIntentInput): Promise<string>;
  /**
   * Confirms that one PaymentIntent; a no-op when it already succeeded, so a retry never charges twice.
   * A card that asks for 3-D Secure answers `requires_action` with what the customer must do.
   * `created`: this run created the intent just before (not found in the ledger), so its first attempt
   * need not read it before confirming.
   */
  confirmPaymentIntent(intentId: string, opts?: { created?: boolean }): Promise<ConfirmResult>;
  /** Reads the intent from Stripe: a webhook is a hint, Stripe is the truth. */
  getPaymentIntentState(intentId: string): Promise<IntentState>;
  /**
   * Cancels the intent (idempotency key `cancel-<intentId>`) unless it already succeeded; answers the
   * state it ended in, so a charge that won the race is reported, not hidden.
   */
  cancelPaymentIntent(intentId: string): Promise<IntentState>;
  /**
   * Publishes on payment.event. The event id is derived from the workflow run and `kind` (one event of
   * each kind per run), not drawn at random: a local activity runs again when its workflow task is
   * rejected — a webhook signal arriving during the final task is enough — and the same event must
   * keep the same id, so the order service and the notifier see a redelivery, not a second event.
   */
  publishPaymentEvent(event: PaymentEventDraft, kind?: string): Promise<void>;
  /**
   * Captures an authorized intent (key `capture-<intentId>`), all of it or `amount`, and records the capture
   * and the release of the rest; an intent captured already answers that capture, so a retry never takes twice.
   */
  capturePaymentIntent(input: CaptureInput): Promise<{ capturedAmount: number; releasedAmount: number }>;
  /** The payment's amount and its refunds, from Stripe. */
  getRefundLedger(paymentIntentId: string): Promise<RefundLedger>;
  /**
   * Reads the dispute from Stripe and records it: its row in the ledger, the funds it withdrew and (won)
   * reinstated as movements, each once.
   */
  getDispute(disputeId: string): Promise<DisputeState>;
  /**
   * Refunds `amount` of the payment unless a refund with this request key exists already (a retry after a
   * lost answer finds it, also where Stripe's idempotency keys are not honoured); returns the refund's id.
   */
  createRefund(input: CreateRefundInput): Promise<string>;
}
