import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy in front of a fake Stripe. For a share of calls it answers 500 without
 * forwarding ("Stripe is down"); for another share it forwards, lets Stripe act, and then drops the
 * connection before the answer ("timeout after the charge happened") — the case that double-charges
 * a naive client.
 */
export interface FaultProxy {
  url: string;
  stats: { forwarded: number; failed500: number; droppedAfterForward: number };
  setRates(rates: { error500: number; dropAfterForward: number }): void;
  close(): Promise<void>;
}

export async function startStripeFaultProxy(upstream: string, seed = 1): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rates = { error500: 0, dropAfterForward: 0 };
  const stats = { forwarded: 0, failed500: 0, droppedAfterForward: 0 };
  let state = seed >>> 0;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const server = http.createServer((req, res) => {
    const roll = rand();
    if (roll < rates.error500) {
      stats.failed500++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: 'injected fault' } }));
      return;
    }
    const drop = roll < rates.error500 + rates.dropAfterForward;
    const upstreamReq = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (upstreamRes) => {
        stats.forwarded++;
        if (drop) {
          stats.droppedAfterForward++;
          upstreamRes.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setRates: (r) => {
      rates = r;
    },
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
