import { z } from 'zod';

/** Kafka topics. Keys are always the orderId so one order's events stay ordered on one partition. */
export const TOPICS = {
  orderCreate: 'order.create',
  paymentEvent: 'payment.event',
  /** What happened to an order (it moved along its status table): the merchant's event feed reads it. */
  orderEvent: 'order.event',
  notificationDlq: 'notification.dlq',
  /** Verified Stripe webhook events (id, type, order), as the payment service received them. */
  stripeEvents: 'stripe.events',
  /** Messages a consumer could not parse or validate: kept for inspection, never retried blindly. */
  parked: 'paystream.parked',
} as const;

export const ALL_TOPICS = Object.values(TOPICS);

/** The services' consumer groups (their principals may join only these: kafka-access.ts). */
export const CONSUMER_GROUPS = {
  order: 'order-service',
  payment: 'payment-service',
  notification: 'notification-service',
  /** The notification service's second group: order.event → the merchants' webhook endpoints. */
  webhooks: 'notification-webhooks',
} as const;

/** Prefix of the one-off groups the DLQ reader joins (one per run, so it never moves another's offsets). */
export const DLQ_READER_GROUP_PREFIX = 'dlq-reader-';

/** The Stripe webhook events Paystream acts on: a Stripe endpoint (or `stripe listen`) sends these. */
export const STRIPE_WEBHOOK_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  // A manual-capture payment authorized (after 3-D Secure, Stripe sends this, not succeeded).
  'payment_intent.amount_capturable_updated',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
] as const;

/**
 * How an order's payment is captured: at once (`automatic`), or authorized now and captured later by an
 * operator (`manual`: the card is held, nothing is taken until the capture).
 */
export const CAPTURE_METHODS = ['automatic', 'manual'] as const;
export type CaptureMethod = (typeof CAPTURE_METHODS)[number];

const currency = z
  .string()
  .regex(/^[a-z]{3}$/, 'ISO 4217 code in lower case')
  .describe('ISO 4217, lower case as Stripe uses it');
/** Minor units (cents); Stripe's own limit is 99,999,999. */
const amount = z.number().int().positive().max(99_999_999);
const isoDate = z.iso.datetime({ offset: true });

export const orderCreateEvent = z.object({
  eventId: z.uuid(),
  orderId: z.uuid(),
  userId: z.uuid(),
  amount,
  currency,
  /** Absent: automatic (events written before capture-later existed). */
  captureMethod: z.enum(CAPTURE_METHODS).optional(),
  createdAt: isoDate,
});
export type OrderCreateEvent = z.infer<typeof orderCreateEvent>;

/** What the customer must do to finish a payment (3-D Secure): Stripe.js takes the client secret. */
export const nextAction = z.object({
  type: z.string().min(1).max(100),
  clientSecret: z.string().min(1).max(500),
  redirectUrl: z.url().optional(),
});
export type NextAction = z.infer<typeof nextAction>;

/**
 * Notices: what someone must act on soon, about an order whose status they do not change — an authorization
 * about to lapse (capture or void it), a dispute's evidence due. The order service acknowledges them; the
 * notifier tells the merchant.
 */
export const PAYMENT_NOTICES = ['authorization_expiring', 'dispute_evidence_due'] as const;
export type PaymentNotice = (typeof PAYMENT_NOTICES)[number];
export const isNotice = (status: string): status is PaymentNotice =>
  (PAYMENT_NOTICES as readonly string[]).includes(status);

/** A dispute (chargeback) as Stripe reports it, reduced to what the order and the merchant need. */
export const disputeInfo = z.object({
  id: z.string().min(1).max(100),
  status: z.string().min(1).max(40),
  reason: z.string().min(1).max(100),
  amount,
  /** When the evidence must be in (Stripe's `evidence_details.due_by`); absent once it is closed. */
  evidenceDueBy: isoDate.optional(),
});
export type DisputeInfo = z.infer<typeof disputeInfo>;

/**
 * `status` is the kind of payment.event: the payment's result (succeeded, failed, cancelled), a step of
 * its life (requires_action while the customer authenticates; authorized while a manual capture waits), a
 * refund (partially_refunded, refunded; one event per Stripe refund), a dispute's course (disputed,
 * dispute_won, dispute_lost) or a notice (PAYMENT_NOTICES). The order service's transition table knows
 * which move an order.
 */
export const paymentEvent = z.object({
  eventId: z.uuid(),
  orderId: z.uuid(),
  userId: z.uuid(),
  status: z.enum([
    'succeeded',
    'failed',
    'requires_action',
    'authorized',
    'cancelled',
    'partially_refunded',
    'refunded',
    'disputed',
    'dispute_won',
    'dispute_lost',
    ...PAYMENT_NOTICES,
  ]),
  amount,
  currency,
  paymentIntentId: z.string().min(1).optional(),
  failureReason: z.string().min(1).max(500).optional(),
  /** With requires_action only. */
  nextAction: nextAction.optional(),
  /** With succeeded: what was taken (less than `amount` after a partial capture; absent means all of it). */
  capturedAmount: amount.optional(),
  /** With authorized and authorization_expiring: when the authorization is captured or voided by itself. */
  authorizationExpiresAt: isoDate.optional(),
  /** With partially_refunded and refunded: this refund, and everything refunded on the payment so far. */
  refundAmount: amount.optional(),
  refundedAmount: z.number().int().nonnegative().max(99_999_999).optional(),
  /** With disputed, dispute_won, dispute_lost and dispute_evidence_due. */
  dispute: disputeInfo.optional(),
  /**
   * A settled outcome published again, under its first event id, by a payment run that found it in the
   * ledger (Temporal had forgotten the order): consumers apply it once by id; the notifier sends nothing.
   */
  replayed: z.literal(true).optional(),
  occurredAt: isoDate,
});
export type PaymentEvent = z.infer<typeof paymentEvent>;

/**
 * The merchant's event feed (Standard Webhooks `type`): one per step an order took, named by the step. The order
 * service writes each in the transaction that moved the order (its outbox), so an event is never lost or sent
 * for a step that did not happen, and one order's events keep their order (key = order id).
 */
export const ORDER_EVENT_TYPES = [
  'order.requires_action',
  'order.authorized',
  'order.paid',
  'order.captured',
  'order.failed',
  'order.cancelled',
  'order.refunded',
  'order.disputed',
  'order.dispute_won',
  'order.dispute_lost',
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export const orderEvent = z.object({
  /** The payment.event that moved the order: a redelivery is the same event. */
  eventId: z.uuid(),
  type: z.enum(ORDER_EVENT_TYPES),
  orderId: z.uuid(),
  userId: z.uuid(),
  /** The order's status after the step. */
  status: z.string().min(1).max(40),
  amount,
  currency,
  capturedAmount: amount.optional(),
  refundedAmount: z.number().int().nonnegative().max(99_999_999),
  paymentIntentId: z.string().min(1).optional(),
  disputeId: z.string().min(1).optional(),
  occurredAt: isoDate,
});
export type OrderEvent = z.infer<typeof orderEvent>;

export const notificationDlqEntry = z.object({
  /** The payment.event as it arrived; unknown when the message itself could not be parsed. */
  original: z.unknown(),
  error: z.string(),
  attempts: z.number().int().nonnegative(),
  failedAt: isoDate,
});
export type NotificationDlqEntry = z.infer<typeof notificationDlqEntry>;

export const parkedMessage = z.object({
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  key: z.string().nullable(),
  value: z.string().nullable(),
  consumerGroup: z.string(),
  reason: z.string(),
  parkedAt: isoDate,
});
export type ParkedMessage = z.infer<typeof parkedMessage>;
