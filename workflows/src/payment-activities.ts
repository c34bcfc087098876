/**
 * What the payment workflow asks of the outside world. Implemented in services/payment/src/activities.ts;
 * the workflow imports these types only, so its bundle stays free of I/O code. Event and lookup shapes
 * are common's zod schemas (`import type`: erased, so no zod in the workflow bundle).
 */
import type { OrderCreateEvent, PaymentDetails, PaymentEvent } from '@paystream/common';

/** Error types the activities throw as non-retryable ApplicationFailures: retrying cannot help. */
export const PAYMENT_ERRORS = {
  detailsMissing: 'PaymentDetailsMissing',
  cardDeclined: 'CardDeclined',
  invalidRequest: 'InvalidPaymentRequest',
  authenticationRequired: 'AuthenticationRequired',
} as const;

/** The workflow's input is the order.create event as it arrived. */
export type PaymentInput = OrderCreateEvent;

export interface CreateIntentInput {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  customerId: string;
  paymentMethodId: string;
}

export interface PaymentActivities {
  /** GET user /get/:userId with the service token; 404 → PaymentDetailsMissing. */
  getPaymentDetails(userId: string): Promise<PaymentDetails>;
  /** Creates (never confirms) the PaymentIntent, idempotency key `order-<orderId>`; returns its id. */
  createPaymentIntent(input: CreateIntentInput): Promise<string>;
  /** Confirms that one PaymentIntent; a no-op when it already succeeded, so a retry never charges twice. */
  confirmPaymentIntent(intentId: string): Promise<{ status: 'succeeded' }>;
  publishPaymentEvent(event: PaymentEvent): Promise<void>;
}
