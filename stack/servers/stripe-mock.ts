/** stripe-mock: Stripe's OpenAPI conformance mock, built into the cache. */
import { httpOk } from '../process';
import { VERSIONS } from '../versions';
import { goDaemon } from './go-daemon';
import type { LocalServer, ServerDeps } from './server';

export function stripeMockServer({ cfg, paths }: ServerDeps): LocalServer {
  return goDaemon(paths, {
    name: 'stripe-mock',
    module: 'github.com/stripe/stripe-mock',
    version: VERSIONS.stripeMock,
    ports: [cfg.STRIPE_MOCK_PORT, cfg.STRIPE_MOCK_PORT + 1],
    // It always serves HTTPS too; give that its own loopback port next to the HTTP one.
    args: [
      '-http-addr',
      `127.0.0.1:${cfg.STRIPE_MOCK_PORT}`,
      '-https-addr',
      `127.0.0.1:${cfg.STRIPE_MOCK_PORT + 1}`,
    ],
    answers: () =>
      httpOk(`http://127.0.0.1:${cfg.STRIPE_MOCK_PORT}/v1/customers`, {
        authorization: 'Bearer sk_test_123',
      }),
    describe: `stripe-mock  http://127.0.0.1:${cfg.STRIPE_MOCK_PORT} (Stripe's OpenAPI conformance mock)`,
  });
}
