/** localstripe: the stateful fake Stripe the services use, pip-installed into a venv in the cache. */
import { STRIPE_WEBHOOK_EVENTS } from '@paystream/common/events';
import path from 'node:path';
import { httpOk, pipTool, startDaemon, stopDaemon, waitFor } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

/** localstripe's own server, patched to keep its state in memory only. */
const IN_MEMORY = path.join(__dirname, '..', 'localstripe', 'in_memory.py');

export function localstripeServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
  const answers = () =>
    httpOk(`http://127.0.0.1:${cfg.LOCALSTRIPE_PORT}/v1/customers`, { authorization: 'Bearer sk_test_123' });
  return {
    name: 'localstripe',
    ports: [cfg.LOCALSTRIPE_PORT],
    /** Resolves to the venv folder. */
    install: () => pipTool(paths, aptInstall, 'localstripe', VERSIONS.localstripe),
    ready: answers,
    async start(venv) {
      // In memory, from scratch: see stack/localstripe/in_memory.py for why not localstripe's own pickle.
      const logFile = startDaemon(paths, 'localstripe', path.join(venv, 'bin', 'python3'), [
        IN_MEMORY,
        '--port',
        String(cfg.LOCALSTRIPE_PORT),
        '--from-scratch',
      ]);
      await waitFor('localstripe', answers, 30_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'localstripe'),
    /** Stripe's webhooks go to the gateway, signed with STRIPE_WEBHOOK_SECRET, as a Stripe endpoint would. */
    provision: () =>
      registerLocalstripeWebhook(`http://127.0.0.1:${cfg.LOCALSTRIPE_PORT}`, 'paystream', {
        url: `http://127.0.0.1:${cfg.GATEWAY_PORT}/webhooks/stripe`,
        secret: cfg.STRIPE_WEBHOOK_SECRET,
        events: STRIPE_WEBHOOK_EVENTS,
      }),
    describe: () =>
      `localstripe  http://127.0.0.1:${cfg.LOCALSTRIPE_PORT} (stateful fake Stripe the services use)`,
  };
}

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
