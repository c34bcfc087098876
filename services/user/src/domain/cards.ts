import { type PaymentDetails } from '@paystream/common/contracts';
import { HttpProblem, problems } from '@paystream/common/problem';
import { stripeErrorText, type Stripe } from '@paystream/common/stripe';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { PaymentMethod, User } from '../db/entities';

export type CardInput =
  { paymentMethodId: string } | { card: { number: string; expMonth: number; expYear: number; cvc: string } };

/** Luhn check: a mistyped number is refused before it is sent anywhere. */
export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Raw card fields as a client sends them; spaces and dashes in the number are dropped. */
export const cardSchema = z.strictObject({
  number: z
    .string()
    .max(30)
    .transform((s) => s.replace(/[\s-]/g, ''))
    .pipe(
      z
        .string()
        .regex(/^\d{12,19}$/, 'must be 12 to 19 digits')
        .refine(luhn, 'is not a valid card number'),
    ),
  expMonth: z.number().int().min(1).max(12),
  expYear: z.number().int().min(2000).max(2100),
  cvc: z.string().regex(/^\d{3,4}$/, 'must be 3 or 4 digits'),
});

interface StripeErrorLike {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
  raw?: { message?: string };
  param?: string;
}

/**
 * Stripe's answer as a client error where it is the client's card, a 502 where Stripe itself failed.
 * `field` names what a refused request (400) is blamed on.
 */
export function stripeProblem(
  err: unknown,
  field = 'paymentMethodId',
  { declineDetails = true }: { declineDetails?: boolean } = {},
): HttpProblem {
  const e = err as StripeErrorLike;
  if (e.statusCode === 402 || e.type === 'StripeCardError')
    return declineDetails
      ? new HttpProblem(402, 'card-declined', stripeErrorText(e) ?? 'The card was declined', { code: e.code })
      : new HttpProblem(402, 'card-declined', 'The card was declined');
  if (e.type === 'StripeInvalidRequestError' && e.statusCode && e.statusCode < 500)
    return problems.validation([{ field, message: stripeErrorText(e) ?? 'rejected by Stripe' }]);
  return new HttpProblem(502, 'payment-provider-error', 'Stripe is unavailable; try again');
}

/**
 * Saves a card for a user: raw card fields are turned into a Stripe PaymentMethod at once (they never
 * reach the database or the logs), the user's Stripe customer is created once and reused, the method is
 * attached to it and becomes the user's default. Only Stripe's ids, brand, last 4 and expiry are kept.
 */
export async function saveCard(
  db: DataSource,
  stripe: Stripe,
  userId: string,
  input: CardInput,
  opts: { declineDetails?: boolean } = {},
) {
  const user = await db.getRepository(User).findOneBy({ id: userId });
  if (!user) throw problems.notFound('No such user');
  try {
    const paymentMethodId =
      'paymentMethodId' in input
        ? input.paymentMethodId
        : (
            await stripe.paymentMethods.create({
              type: 'card',
              card: {
                number: input.card.number,
                exp_month: input.card.expMonth,
                exp_year: input.card.expYear,
                cvc: input.card.cvc,
              },
            })
          ).id;
    const customerId = await stripeCustomerFor(db, stripe, user);
    const attached = await stripe.paymentMethods.attach(paymentMethodId, { customer: customerId });
    const card = attached.card;
    if (!card) throw problems.validation([{ field: 'paymentMethodId', message: 'is not a card' }]);

    return await db.transaction(async (tx) => {
      const repo = tx.getRepository(PaymentMethod);
      await repo.update({ userId, isDefault: true }, { isDefault: false });
      await repo.upsert(
        {
          userId,
          stripeCustomerId: customerId,
          stripePaymentMethodId: attached.id,
          brand: card.brand,
          last4: card.last4,
          expMonth: card.exp_month,
          expYear: card.exp_year,
          isDefault: true,
        },
        ['userId', 'stripePaymentMethodId'],
      );
      return repo.findOneByOrFail({ userId, stripePaymentMethodId: attached.id });
    });
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw stripeProblem(err, 'paymentMethodId', opts);
  }
}

/**
 * A SetupIntent for the user's Stripe customer, for Stripe.js to collect and authenticate (SCA) a card
 * that can be charged later off-session; the resulting pm_... is then saved with saveCard.
 */
/** A SetupIntent still waiting for the card it was made for: asked again, it is what the client gets. */
const OPEN_SETUP_INTENT = new Set(['requires_payment_method', 'requires_confirmation', 'requires_action']);

/**
 * A SetupIntent for Stripe.js. The user's last one is reused while it is open (an hour at most), so asking
 * again and again yields one client secret, not a fresh card-testing chance and a Stripe call each time.
 */
export async function createSetupIntent(db: DataSource, stripe: Stripe, userId: string) {
  const rows = await db.query<{ setup_intent_id: string | null }[]>(
    `SELECT setup_intent_id FROM users WHERE id = $1`,
    [userId],
  );
  if (!rows[0]) throw problems.notFound('No such user');
  try {
    if (rows[0].setup_intent_id) {
      const open = await stripe.setupIntents.retrieve(rows[0].setup_intent_id);
      if (
        OPEN_SETUP_INTENT.has(open.status) &&
        open.created * 1000 > Date.now() - 3600_000 &&
        open.client_secret
      )
        return { setupIntentId: open.id, clientSecret: open.client_secret, reused: true };
    }
    const user = await db.getRepository(User).findOneByOrFail({ id: userId });
    const customer = await stripeCustomerFor(db, stripe, user);
    const intent = await stripe.setupIntents.create({
      customer,
      usage: 'off_session',
      metadata: { userId },
    });
    if (!intent.client_secret) throw new Error('Stripe returned a SetupIntent without a client secret');
    await db.query(`UPDATE users SET setup_intent_id = $2 WHERE id = $1`, [userId, intent.id]);
    return { setupIntentId: intent.id, clientSecret: intent.client_secret, reused: false };
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw stripeProblem(err, '(body)');
  }
}

/** The user's Stripe customer id: the stored one, or a customer created once and stored. */
async function stripeCustomerFor(db: DataSource, stripe: Stripe, user: User): Promise<string> {
  return user.stripeCustomerId ?? (await createCustomer(db, stripe, user));
}

async function createCustomer(db: DataSource, stripe: Stripe, user: User): Promise<string> {
  // The idempotency key makes Stripe return the same customer if two first cards race.
  const customer = await stripe.customers.create(
    { email: user.email, name: user.name, metadata: { userId: user.id } },
    { idempotencyKey: `customer-${user.id}` },
  );
  await db.query(`UPDATE users SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL`, [
    customer.id,
    user.id,
  ]);
  const [row] = await db.query<{ stripe_customer_id: string }[]>(
    `SELECT stripe_customer_id FROM users WHERE id = $1`,
    [user.id],
  );
  return row?.stripe_customer_id ?? customer.id;
}

export async function defaultPaymentDetails(db: DataSource, userId: string): Promise<PaymentDetails> {
  const user = await db.getRepository(User).findOneBy({ id: userId });
  if (!user) throw new HttpProblem(404, 'not-found', 'No such user', { reason: 'unknown-user' });
  const card = await db.getRepository(PaymentMethod).findOneBy({ userId, isDefault: true });
  if (!card)
    throw new HttpProblem(404, 'not-found', 'No payment method on file', { reason: 'no-payment-method' });
  return {
    userId,
    email: user.email,
    name: user.name,
    stripeCustomerId: card.stripeCustomerId,
    paymentMethodId: card.stripePaymentMethodId,
    brand: card.brand,
    last4: card.last4,
    expMonth: card.expMonth,
    expYear: card.expYear,
  };
}
