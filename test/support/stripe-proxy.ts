import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the fake Stripe that the services are pointed at in tests.
 * - It records every PaymentIntent Stripe created (id per order, from Stripe's own answers), so a test
 *   can count the charges an order got by retrieving exactly those — listing all intents from localstripe
 *   costs seconds per page once it holds thousands.
 * - It injects faults: for a share of calls it answers 500 without forwarding ("Stripe is down"); for
 *   another share it forwards, lets Stripe act, and drops the connection before the answer ("timeout
 *   after the charge happened") — the case that double-charges a naive client. For a third share it holds
 *   the request past every client timeout before Stripe sees it ("Stripe slower than the activity
 *   timeout"): the retry arrives first and the original lands at Stripe late, to a client long gone.
 */
export interface FaultProxy {
  url: string;
  stats: { forwarded: number; failed500: number; droppedAfterForward: number; delayed: number };
  /** PaymentIntent ids Stripe created, by metadata.orderId. */
  intents: Map<string, Set<string>>;
  setRates(rates: Partial<FaultRates>): void;
  close(): Promise<void>;
}

export interface FaultRates {
  error500: number;
  dropAfterForward: number;
  /** Share of calls held `slowMs` before they are forwarded. */
  slow: number;
  slowMs: number;
}

const NO_FAULTS: FaultRates = { error500: 0, dropAfterForward: 0, slow: 0, slowMs: 25_000 };

export async function startStripeFaultProxy(upstream: string, seed = 1): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rates = NO_FAULTS;
  const stats = { forwarded: 0, failed500: 0, droppedAfterForward: 0, delayed: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const intents = new Map<string, Set<string>>();
  const record = (body: Buffer) => {
    try {
      const pi = JSON.parse(body.toString('utf8')) as { id?: string; metadata?: { orderId?: string } };
      const orderId = pi.metadata?.orderId;
      if (pi.id && orderId) intents.set(orderId, (intents.get(orderId) ?? new Set()).add(pi.id));
    } catch {
      // not JSON: nothing to record
    }
  };
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
    const slow = !drop && roll < rates.error500 + rates.dropAfterForward + rates.slow;
    if (slow) {
      // The whole request is buffered, then sent once every client timeout has passed.
      stats.delayed++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          forward(Buffer.concat(chunks), false);
        }, rates.slowMs);
        timers.add(timer);
      });
      return;
    }
    forward(req, drop);

    function forward(body: Buffer | http.IncomingMessage, dropAnswer: boolean) {
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
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (c: Buffer) => chunks.push(c));
          upstreamRes.on('end', () => {
            const body = Buffer.concat(chunks);
            if (req.method === 'POST' && req.url === '/v1/payment_intents' && upstreamRes.statusCode === 200)
              record(body);
            if (dropAnswer) {
              stats.droppedAfterForward++;
              req.socket.destroy();
              return;
            }
            if (res.destroyed || res.writableEnded) return; // a slow call's client gave up long ago
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            res.end(body);
          });
        },
      );
      upstreamReq.on('error', () => res.destroy());
      if (Buffer.isBuffer(body)) upstreamReq.end(body);
      else body.pipe(upstreamReq);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    intents,
    setRates: (r) => {
      rates = { ...NO_FAULTS, ...r };
    },
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
