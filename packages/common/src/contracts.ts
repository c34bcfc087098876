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
