import http from 'node:http';
import { sendProblem } from '@paystream/common/http';
import { HttpProblem } from '@paystream/common/problem';
import { traceHeaders } from '@paystream/common/tracing';
import type { Request, RequestHandler, Response } from 'express';
import { readBody, type EdgeBudget } from './slow-clients';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are never forwarded. */
/** The client's trace context: dropped, the trace starts at the gateway (its own headers go upstream). */
const CLIENT_TRACE = new Set(['traceparent', 'tracestate', 'baggage']);

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

export interface ProxyOptions {
  /** Base URL of the upstream service, e.g. http://127.0.0.1:8081 */
  upstream: string;
  /** Upstream response deadline; past it the client gets 504. */
  timeoutMs: number;
  /** Largest request body read; a bigger one is cut off with 413. */
  maxBodyBytes: number;
  /** How long and how slowly a body may arrive. */
  budget: EdgeBudget;
  /** Shared keep-alive pool so each request does not pay a TCP handshake. */
  agent: http.Agent;
  /** Extra headers set by the gateway after the client's copies were removed (e.g. the verified user id). */
  trustedHeaders?: (req: Parameters<RequestHandler>[0]) => Record<string, string>;
  /** Client headers the gateway owns: incoming copies are dropped so clients cannot forge them. */
  reservedHeaders?: string[];
}

export function createAgent(): http.Agent {
  // Idle sockets close before the upstream's keepAliveTimeout (65 s), so a reused socket is never half-closed.
  return new http.Agent({
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: 256,
    maxFreeSockets: 64,
    timeout: 60_000,
  });
}

/**
 * Sends the request to `upstream + req.url` once its (small) body is all here, and streams the answer back.
 * Reading the body first means a client trickling it holds no upstream socket (see slow-clients.ts).
 * Mounted under a prefix (e.g. app.use('/users', proxy)), so Express has already stripped the prefix.
 */
export function proxy(opts: ProxyOptions): RequestHandler {
  const base = new URL(opts.upstream);
  const reserved = new Set((opts.reservedHeaders ?? []).map((h) => h.toLowerCase()));
  return (req, res) => {
    if (Number(req.headers['content-length'] ?? 0) > opts.maxBodyBytes) {
      res.setHeader('connection', 'close'); // do not read the oversized body just to discard it
      sendProblem(res, new HttpProblem(413, 'payload-too-large'), req.originalUrl);
      return;
    }
    readBody(req, opts.maxBodyBytes, opts.budget).then(
      (body) => forward(req, res, body),
      (err: HttpProblem) => {
        res.setHeader('connection', 'close'); // the rest of the body is not worth reading
        sendProblem(res, err, req.originalUrl);
      },
    );
  };

  function forward(req: Request, res: Response, body: Buffer): void {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || reserved.has(name) || CLIENT_TRACE.has(name))
        continue;
      headers[name] = value;
    }
    delete headers['transfer-encoding'];
    headers['content-length'] = String(body.length);
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor
      ? `${String(forwardedFor)}, ${req.socket.remoteAddress}`
      : req.socket.remoteAddress;
    headers['x-forwarded-proto'] = 'http';
    headers['x-request-id'] = req.id;
    headers.host = base.host;
    Object.assign(headers, opts.trustedHeaders?.(req) ?? {});
    Object.assign(headers, traceHeaders()); // the upstream's span becomes a child of the gateway's

    const upstreamReq = http.request({
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      method: req.method,
      path: base.pathname.replace(/\/$/, '') + req.url,
      headers,
      agent: opts.agent,
    });
    let timedOut = false;
    upstreamReq.setTimeout(opts.timeoutMs, () => {
      timedOut = true;
      upstreamReq.destroy();
    });
    const fail = (problem: HttpProblem) => {
      if (res.headersSent) res.destroy();
      else {
        res.setHeader('connection', 'close');
        sendProblem(res, problem, req.originalUrl);
      }
    };
    upstreamReq.on('response', (upstreamRes) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      out['x-request-id'] = req.id;
      res.writeHead(upstreamRes.statusCode ?? 502, out);
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => res.destroy());
    });
    upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
      if (timedOut)
        fail(new HttpProblem(504, 'gateway-timeout', `Upstream did not answer within ${opts.timeoutMs} ms`));
      else if (err instanceof HttpProblem) fail(err);
      else {
        req.log.warn({ err: err.message, code: err.code, upstream: base.host }, 'upstream error');
        fail(new HttpProblem(502, 'bad-gateway'));
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy(); // the client went away
    });
    upstreamReq.end(body);
  }
}
