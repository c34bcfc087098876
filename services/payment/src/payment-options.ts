import { type Config } from '@paystream/common/config';
import type { PaymentOptions } from '@paystream/workflows';

/** What every starter of a payment workflow passes, from the payment service's configuration. */
export function paymentOptions(cfg: Config): PaymentOptions {
  return {
    authTimeoutSeconds: cfg.PAYMENT_AUTH_TIMEOUT,
    authorization: {
      lifetimeSeconds: cfg.PAYMENT_AUTHORIZATION_LIFETIME,
      warningSeconds: cfg.PAYMENT_AUTHORIZATION_WARNING,
      onExpiry: cfg.PAYMENT_AUTHORIZATION_EXPIRY,
    },
  };
}
