import http from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { sendProblem } from '@paystream/common/http';
import { HttpProblem } from '@paystream/common/problem';
import { traceHeaders } from '@paystream/common/tracing';
import type { RequestHandler } from 'express';

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
  /** Largest request body streamed upstream; a bigger one is cut off with 413. */
  maxBodyBytes: number;
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

class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(new HttpProblem(413, 'payload-too-large'));
    else done(null, chunk);
  }
}

/**
 * Streams the request to `upstream + req.url` and the response back, without buffering either.
 * Mounted under a prefix (e.g. app.use('/users', proxy)), so Express has already stripped the prefix.
 */
export function proxy(opts: ProxyOptions): RequestHandler {
  const base = new URL(opts.upstream);
  const reserved = new Set((opts.reservedHeaders ?? []).map((h) => h.toLowerCase()));
  return (req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > opts.maxBodyBytes) {
      res.setHeader('connection', 'close'); // do not read the oversized body just to discard it
      sendProblem(res, new HttpProblem(413, 'payload-too-large'), req.originalUrl);
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || reserved.has(name) || CLIENT_TRACE.has(name))
        continue;
      headers[name] = value;
    }
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
    const limiter = new BodyLimit(opts.maxBodyBytes);
    limiter.on('error', (err) => {
      upstreamReq.destroy();
      fail(err instanceof HttpProblem ? err : new HttpProblem(400, 'validation-error', 'Malformed body'));
    });
    req.on('aborted', () => upstreamReq.destroy());
    req.pipe(limiter).pipe(upstreamReq);
  };
}
