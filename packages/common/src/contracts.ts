import { z } from 'zod';

/** GET user /get/:userId — the user's default card, for the payment service only. */
export const paymentDetailsSchema = z.object({
  userId: z.uuid(),
  email: z.email(),
  name: z.string(),
  stripeCustomerId: z.string().min(1),
  paymentMethodId: z.string().min(1),
  brand: z.string(),
  last4: z.string().regex(/^\d{4}$/),
  expMonth: z.number().int(),
  expYear: z.number().int(),
});
export type PaymentDetails = z.infer<typeof paymentDetailsSchema>;

/**
 * POST notification /internal/account-emails — the user service asks for an account email: a verification
 * link, a password-reset link, or word that someone tried to sign up with an address that has an account
 * (signup does not say so to the caller). `id` makes a retried request one email; the link carries the token,
 * so it travels only inside the codec-encrypted workflow input.
 */
export const accountEmailRequest = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  kind: z.enum(['verify_email', 'reset_password', 'account_exists']),
  userId: z.uuid(),
  link: z.url().max(2000).optional(),
});
export type AccountEmailRequest = z.infer<typeof accountEmailRequest>;

/** GET user /contact/:userId — where and whether a customer may be emailed. */
export const contactSchema = z.object({
  userId: z.uuid(),
  email: z.email(),
  name: z.string(),
  verified: z.boolean(),
});
