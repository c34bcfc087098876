import type http from 'node:http';
import { sendProblem } from '@paystream/common/http';
import { HttpProblem, problems } from '@paystream/common/problem';
import type { Request, RequestHandler } from 'express';

/**
 * What one client may hold at the edge, so that a slow or greedy one cannot stall the others. The upstream
 * pool is shared by everyone: a request only takes a socket from it once its whole body is here
 * (`readBody`), so a client that sends headers and trickles a body holds its own connection and nothing else.
 */
export interface EdgeBudget {
  /** Requests one client (clientKey) may have in flight in this gateway; more are 429 at once. */
  concurrentPerClient: number;
  /** How long the headers may take (Node's headersTimeout; checked every second). */
  headersTimeoutMs: number;
  /** How long a body may take to arrive whole, whatever its rate. */
  bodyTimeoutMs: number;
  /** After its first second, a body slower than this on average is cut off (408). */
  minBodyBytesPerSecond: number;
  /** From the request's headers to its answer's last byte; then the connection is closed. */
  requestDeadlineMs: number;
}

export const edgeBudget = (cfg: {
  GATEWAY_CONCURRENT_PER_CLIENT: number;
  GATEWAY_HEADERS_TIMEOUT_MS: number;
  GATEWAY_BODY_TIMEOUT_MS: number;
  GATEWAY_MIN_BODY_BYTES_PER_SECOND: number;
  GATEWAY_TIMEOUT_MS: number;
}): EdgeBudget => ({
  concurrentPerClient: cfg.GATEWAY_CONCURRENT_PER_CLIENT,
  headersTimeoutMs: cfg.GATEWAY_HEADERS_TIMEOUT_MS,
  bodyTimeoutMs: cfg.GATEWAY_BODY_TIMEOUT_MS,
  minBodyBytesPerSecond: cfg.GATEWAY_MIN_BODY_BYTES_PER_SECOND,
  // The body, the upstream's answer, and a little to write it back.
  requestDeadlineMs: cfg.GATEWAY_BODY_TIMEOUT_MS + cfg.GATEWAY_TIMEOUT_MS + 5_000,
});

/** Node's own guards on the public server: headers in time, checked every second rather than every 30. */
export const serverOptions = (budget: EdgeBudget): http.ServerOptions => ({
  headersTimeout: budget.headersTimeoutMs,
  // Node's requestTimeout would answer its own 408 (not problem+json); readBody's deadline comes first.
  requestTimeout: budget.requestDeadlineMs,
  connectionsCheckingInterval: 1000,
});

/** At most `max` requests in flight per client; the rest are refused before anything is read or forwarded. */
export function concurrencyCap(max: number): RequestHandler {
  const inFlight = new Map<string, number>();
  return (req, res, next) => {
    const key = req.clientKey ?? 'unknown';
    const now = inFlight.get(key) ?? 0;
    if (now >= max) {
      res.setHeader('connection', 'close');
      next(problems.rateLimited(1, 'Too many requests in flight from this client; wait for the others'));
      return;
    }
    inFlight.set(key, now + 1);
    res.once('close', () => {
      const left = (inFlight.get(key) ?? 1) - 1;
      if (left > 0) inFlight.set(key, left);
      else inFlight.delete(key);
    });
    next();
  };
}

/** Closes a request's connection at its deadline, whatever it is doing (reading, waiting, writing). */
export function requestDeadline(ms: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        res.setHeader('connection', 'close');
        sendProblem(
          res,
          new HttpProblem(503, 'service-unavailable', 'The request took too long'),
          req.originalUrl,
        );
      }
      setImmediate(() => req.socket.destroy());
    }, ms);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

/**
 * The whole body, at most `maxBytes`, within the budget's time and rate; rejects with 413 or 408 (the
 * connection is then closed: the rest of the body is not worth reading).
 */
export function readBody(req: Request, maxBytes: number, budget: EdgeBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const started = Date.now();
    const done = (err?: HttpProblem) => {
      clearTimeout(deadline);
      clearInterval(rate);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, received));
    };
    const tooSlow = () =>
      done(new HttpProblem(408, 'request-timeout', 'The request body did not arrive in time'));
    const deadline = setTimeout(tooSlow, budget.bodyTimeoutMs);
    const rate = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      if (received < budget.minBodyBytesPerSecond * (seconds - 1)) tooSlow();
    }, 1000);
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) done(new HttpProblem(413, 'payload-too-large'));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = () => done(new HttpProblem(400, 'validation-error', 'Malformed body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
