/**
 * What the payment workflow asks of the outside world. Implemented in services/payment/src/activities;
 * the workflow imports these types only, so its bundle stays free of I/O code.
 */

/** Error types the activities throw as non-retryable ApplicationFailures: retrying cannot help. */
export const PAYMENT_ERRORS = {
  detailsMissing: 'PaymentDetailsMissing',
  cardDeclined: 'CardDeclined',
  invalidRequest: 'InvalidPaymentRequest',
  authenticationRequired: 'AuthenticationRequired',
} as const;

export interface PaymentInput {
  eventId: string;
  orderId: string;
  userId: string;
  /** Minor units. */
  amount: number;
  currency: string;
  createdAt: string;
}

export interface PaymentDetails {
  userId: string;
  email: string;
  stripeCustomerId: string;
  paymentMethodId: string;
  brand: string;
  last4: string;
}

export interface CreateIntentInput {
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  customerId: string;
  paymentMethodId: string;
}

export interface PaymentEventOut {
  eventId: string;
  orderId: string;
  userId: string;
  status: 'succeeded' | 'failed';
  amount: number;
  currency: string;
  paymentIntentId?: string;
  failureReason?: string;
  email?: string;
  occurredAt: string;
}

export interface PaymentActivities {
  /** GET user /get/:userId with the service token; 404 → PaymentDetailsMissing. */
  getPaymentDetails(userId: string): Promise<PaymentDetails>;
  /** Creates (never confirms) the PaymentIntent, idempotency key `order-<orderId>`; returns its id. */
  createPaymentIntent(input: CreateIntentInput): Promise<string>;
  /** Confirms that one PaymentIntent; a no-op when it already succeeded, so a retry never charges twice. */
  confirmPaymentIntent(intentId: string): Promise<{ status: 'succeeded' }>;
  publishPaymentEvent(event: PaymentEventOut): Promise<void>;
}
