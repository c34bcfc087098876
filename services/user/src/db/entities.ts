import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

// Column types are spelled out: tsx/esbuild does not emit decorator metadata for TypeORM to infer them.

@Entity({ name: 'users' })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Normalised (trimmed, lower case); unique. */
  @Column({ type: 'text', unique: true })
  email: string;

  @Column({ type: 'text' })
  name: string;

  /** Self-describing scrypt hash (see domain/password.ts); never leaves this service. */
  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash: string;

  /** When the owner proved the address (a verification link, or a password reset); payment emails need it. */
  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  /** Created on the first card, reused for every later one. */
  @Column({ name: 'stripe_customer_id', type: 'text', nullable: true })
  stripeCustomerId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** What we keep of a card: Stripe's ids and what a receipt shows. Never the number or CVC. */
@Entity({ name: 'payment_methods' })
export class PaymentMethod {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'stripe_customer_id', type: 'text' })
  stripeCustomerId: string;

  @Column({ name: 'stripe_payment_method_id', type: 'text' })
  stripePaymentMethodId: string;

  @Column({ type: 'text' })
  brand: string;

  @Column({ type: 'char', length: 4 })
  last4: string;

  @Column({ name: 'exp_month', type: 'smallint' })
  expMonth: number;

  @Column({ name: 'exp_year', type: 'smallint' })
  expYear: number;

  @Column({ name: 'is_default', type: 'boolean' })
  isDefault: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
