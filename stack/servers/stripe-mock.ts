/** stripe-mock: Stripe's OpenAPI conformance mock, built into the cache. */
import { goBinary, httpOk, startDaemon, stopDaemon, waitFor } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

export function stripeMockServer({ cfg, paths }: ServerDeps): LocalServer {
  const answers = () =>
    httpOk(`http://127.0.0.1:${cfg.STRIPE_MOCK_PORT}/v1/customers`, { authorization: 'Bearer sk_test_123' });
  return {
    name: 'stripe-mock',
    ports: [cfg.STRIPE_MOCK_PORT, cfg.STRIPE_MOCK_PORT + 1],
    /** Resolves to the stripe-mock binary. */
    install: () => goBinary(paths, 'stripe-mock', 'github.com/stripe/stripe-mock', VERSIONS.stripeMock),
    ready: answers,
    async start(binary) {
      // It always serves HTTPS too; give that its own loopback port next to the HTTP one.
      const logFile = startDaemon(paths, 'stripe-mock', binary, [
        '-http-addr',
        `127.0.0.1:${cfg.STRIPE_MOCK_PORT}`,
        '-https-addr',
        `127.0.0.1:${cfg.STRIPE_MOCK_PORT + 1}`,
      ]);
      await waitFor('stripe-mock', answers, 30_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'stripe-mock'),
    describe: () =>
      `stripe-mock  http://127.0.0.1:${cfg.STRIPE_MOCK_PORT} (Stripe's OpenAPI conformance mock)`,
  };
}
