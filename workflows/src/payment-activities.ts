/**
 * What the payment workflow asks of the outside world. Implemented in services/payment/src/activities.ts;
 * the workflow imports these types only, so its bundle stays free of I/O code. Event and lookup shapes
 * are common's zod schemas (`import type`: erased, so no zod in the workflow bundle).
 */
import type { NextAction, OrderCreateEvent, PaymentDetails, PaymentEvent } from '@paystream/common';

/** Error types the activities throw as non-retryable ApplicationFailures: retrying cannot help. */
export const PAYMENT_ERRORS = {
  detailsMissing: 'PaymentDetailsMissing',
  cardDeclined: 'CardDeclined',
  invalidRequest: 'InvalidPaymentRequest',
  authenticationRequired: 'AuthenticationRequired',
} as const;

/** The workflow's input is the order.create event as it arrived. */
export type PaymentInput = OrderCreateEvent;

/** Settings the starter passes (a second argument, so histories from before it still decode). */
export interface PaymentOptions {
  /** How long the customer has to complete 3-D Secure (PAYMENT_AUTH_TIMEOUT); 30 min when absent. */
  authTimeoutSeconds?: number;
}

/** What a confirm ended in: paid, or the bank wants the customer to authenticate first. */
export type ConfirmResult = { status: 'succeeded' } | { status: 'requires_action'; nextAction: NextAction };

/** A PaymentIntent's state as Stripe reports it, reduced to what the workflow decides on. */
export type IntentState =
  | { status: 'succeeded' }
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
}

/** A payment.event as the workflow writes it; the publishing activity gives it its id. */
export type PaymentEventDraft = Omit<PaymentEvent, 'eventId'> & { eventId?: string };

export interface PaymentActivities {
  /** GET user /get/:userId with the service token; 404 → PaymentDetailsMissing. */
  getPaymentDetails(userId: string): Promise<PaymentDetails>;
  /** Creates (never confirms) the PaymentIntent, idempotency key `order-<orderId>`; returns its id. */
  createPaymentIntent(input: CreateIntentInput): Promise<string>;
  /**
   * Confirms that one PaymentIntent; a no-op when it already succeeded, so a retry never charges twice.
   * A card that asks for 3-D Secure answers `requires_action` with what the customer must do.
   */
  confirmPaymentIntent(intentId: string): Promise<ConfirmResult>;
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
}
