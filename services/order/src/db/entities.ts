import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

import type { CaptureMethod, NextAction } from '@paystream/common/events';
import type { OrderStatus } from '../domain/order-status';

export interface OrderItem {
  sku: string;
  quantity: number;
  unitAmount: number;
}

@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** Minor units. */
  @Column({ type: 'integer' })
  amount: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ type: 'jsonb', nullable: true })
  items: OrderItem[] | null;

  @Column({ type: 'text' })
  status: OrderStatus;

  /** `manual`: authorized at checkout, captured later by an operator. */
  @Column({ name: 'capture_method', type: 'text', default: 'automatic' })
  captureMethod: CaptureMethod;

  /** Minor units taken; set once paid (less than `amount` after a partial capture). */
  @Column({ name: 'captured_amount', type: 'integer', nullable: true })
  capturedAmount: number | null;

  /** Minor units refunded so far (partial refunds add up; never more than `amount`). */
  @Column({ name: 'refunded_amount', type: 'integer', default: 0 })
  refundedAmount: number;

  /** While `requires_action`: what the customer must do (Stripe.js takes the client secret). */
  @Column({ name: 'next_action', type: 'jsonb', nullable: true })
  nextAction: NextAction | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  @Column({ name: 'payment_intent_id', type: 'text', nullable: true })
  paymentIntentId: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** Events written in the same transaction as the state they describe; the relay publishes them. */
@Entity({ name: 'outbox' })
export class OutboxMessage {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'text' })
  topic: string;

  @Column({ name: 'message_key', type: 'text' })
  messageKey: string;

  @Column({ type: 'jsonb' })
  payload: unknown;

  /** Sent as Kafka headers: the trace context of the request that wrote the row. */
  @Column({ type: 'jsonb', default: {} })
  headers: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;
}
