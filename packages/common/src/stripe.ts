import Stripe from 'stripe';
import { stripeClientOptions, type Config } from './config';

/** Real Stripe when the key is a real test/live key and no fake is configured (see stripeClientOptions). */
export function usesRealStripe(cfg: Config): boolean {
  return Object.keys(stripeClientOptions(cfg)).length === 0;
}

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
