import Stripe from 'stripe';
import { metrics } from './metrics';
import { stripeClientOptions, type Config } from './config';

/**
 * The Stripe API version every request names, the one this SDK release is typed for: Stripe answers in
 * the shape the code was written against, whatever the account's default. The webhook endpoint must be
 * set to the same version (docs/operations.md#stripe-webhooks). The type only admits the SDK's own
 * version, so an SDK upgrade fails to compile here until someone reads the changelog.
 */
export const STRIPE_API_VERSION = '2026-11-18.endive' satisfies Stripe.LatestApiVersion;

/**
 * The official SDK, pointed at api.stripe.com or at a local fake. The SDK's own network retries stay
 * off where Temporal owns retries (payment); the user service's synchronous calls allow a couple.
 */
export function createStripe(
  cfg: Config,
  { maxNetworkRetries = 0, timeout = 10_000 }: { maxNetworkRetries?: number; timeout?: number } = {},
): Stripe {
  const stripe = new Stripe(cfg.STRIPE_SECRET_KEY, {
    ...stripeClientOptions(cfg),
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries,
    timeout,
    appInfo: { name: 'paystream' },
  });
  // Every answer Stripe gives, by status class: the dashboard's Stripe errors and their alert. (The SDK
  // types `on` as any since 23; this is the signature its README documents.)
  const on = stripe.on as (event: 'response', listener: (r: Stripe.ResponseEvent) => void) => void;
  on.call(stripe, 'response', (r) =>
    metrics.stripeResponses.inc({ status: `${Math.floor(r.status / 100)}xx` }),
  );
  return stripe;
}

/**
 * Stripe's own words for an error, without the request id the SDK puts in front of `message` (the id is
 * for Stripe's support, not for a customer reading a failure reason).
 */
export function stripeErrorText(err: { message?: string; raw?: { message?: string } }): string | undefined {
  return err.raw?.message ?? err.message;
}

export type { Stripe };
