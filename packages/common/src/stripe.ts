import Stripe from 'stripe';
import { stripeClientOptions, type Config } from './config';

/**
 * The official SDK, pointed at api.stripe.com or at a local fake. The SDK's own network retries stay
 * off where Temporal owns retries (payment); the user service's synchronous calls allow a couple.
 */
export function createStripe(cfg: Config, maxNetworkRetries = 0): Stripe {
  return new Stripe(cfg.STRIPE_SECRET_KEY, {
    ...stripeClientOptions(cfg),
    maxNetworkRetries,
    timeout: 10_000,
    appInfo: { name: 'paystream' },
  });
}

export type { Stripe };
