import Stripe from 'stripe';
import { metrics } from './metrics';
import { stripeClientOptions, type Config } from './config';

/**
 * The official SDK, pointed at api.stripe.com or at a local fake. The SDK's own network retries stay
 * off where Temporal owns retries (payment); the user service's synchronous calls allow a couple.
 */
export function createStripe(cfg: Config, maxNetworkRetries = 0): Stripe {
  const stripe = new Stripe(cfg.STRIPE_SECRET_KEY, {
    ...stripeClientOptions(cfg),
    maxNetworkRetries,
    timeout: 10_000,
    appInfo: { name: 'paystream' },
  });
  // Every answer Stripe gives, by status class: the dashboard's Stripe errors and their alert.
  stripe.on('response', (r) => metrics.stripeResponses.inc({ status: `${Math.floor(r.status / 100)}xx` }));
  return stripe;
}

export type { Stripe };
