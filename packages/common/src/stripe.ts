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

/**
 * Registers (or moves) a webhook endpoint on localstripe, which has no dashboard: `id` names it, so
 * registering again replaces it. Real Stripe: the dashboard or `stripe listen --forward-to`.
 */
export async function registerLocalstripeWebhook(
  localstripeUrl: string,
  id: string,
  endpoint: { url: string; secret: string; events: readonly string[] },
): Promise<void> {
  const res = await fetch(new URL(`/_config/webhooks/${encodeURIComponent(id)}`, localstripeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: endpoint.url, secret: endpoint.secret, events: endpoint.events }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`localstripe refused the webhook endpoint: HTTP ${res.status}`);
}
