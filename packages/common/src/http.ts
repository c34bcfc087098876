import { randomUUID } from 'node:crypto';
import http, { type Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { ZodType } from 'zod';
import type { Logger } from './logger';
import { metrics, metricsHandler } from './metrics';
import { contextFromHttp, SpanKind, tracing } from './tracing';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { HttpProblem, PROBLEM_CONTENT_TYPE, fieldErrorsFromZod, problems } from './problem';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accept a caller's request id only if it is short and printable; otherwise mint one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

export function sendProblem(res: express.Response, problem: HttpProblem, instance?: string): void {
  const retryAfter = problem.extensions.retryAfter;
  if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
  const allow = problem.extensions.allow;
  if (Array.isArray(allow)) res.setHeader('allow', allow.join(', '));
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toBody(instance)));
}

export interface ServiceAppOptions {
  logger: Logger;
  /** Largest JSON body accepted; bigger ones are answered 413 without being read whole. */
  bodyLimit?: string;
  /** The gateway streams bodies through untouched, so it turns parsing off. */
  parseJson?: boolean;
  /**
   * Whether a request's trace continues the caller's (`traceparent`, `tracestate`, `baggage`): yes between
   * Paystream services, no at the edge — a client's trace ids and baggage would otherwise travel into every
   * service, log line and outbox row. The gateway starts each trace itself.
   */
  continueCallerTrace?: boolean;
}

/** Request id + access log + JSON body parsing shared by every service. Add routes, then call `finish`. */
export function createServiceApp({
  logger,
  bodyLimit = '16kb',
  parseJson = true,
  continueCallerTrace = true,
}: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    req.id = requestIdFrom(req.headers['x-request-id']);
    req.log = logger.child({ requestId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    // A server span, child of the caller's `traceparent` (a new trace at the edge); the handler runs inside it.
    const span = tracing().tracer.startSpan(
      `${req.method} ${req.baseUrl}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'paystream.request_id': req.id },
      },
      continueCallerTrace ? contextFromHttp(req.headers) : ROOT_CONTEXT,
    );
    const ctx = trace.setSpan(context.active(), span);
    // Body parsing and 'finish' run from socket events: bind them, or they lose the context.
    context.bind(ctx, req);
    context.bind(ctx, res);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The route pattern, not the path: ids would make one time series per order.
      const route = req.route
        ? `${req.baseUrl}${String((req.route as { path: string }).path)}`
        : req.baseUrl || 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, ms / 1000);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      req.log.info(
        { method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    res.on('close', () => span.end()); // after 'finish', or alone when the client went away
    context.with(ctx, next);
  });
  if (parseJson) app.use(jsonBody(bodyLimit));
  return app;
}

/**
 * A JSON body as every route takes it: application/json or 415, at most `limit`, and no control character,
 * lone surrogate or absurd nesting in it (400). For the routes of an app that parses bodies per route.
 */
export function jsonBody(limit: string | number): RequestHandler[] {
  return [requireJsonBody, express.json({ limit, strict: true, type: 'application/json' }), rejectUnsafeText];
}

/** Deeper JSON than any route takes is refused before anything walks it. */
const MAX_JSON_DEPTH = 16;
// C0 and C1 control characters but tab, line feed and carriage return: those are whitespace a pasted
// name may end with, or a password may hold (one accepted before this rule must still sign in).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Half of a UTF-16 pair with no other half: JSON allows "\ud800", UTF-8 (and Postgres) cannot hold it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The first string in `value` (by JSON path) that no text field may hold, with the reason. */
export function unsafeText(
  value: unknown,
  path = '',
  depth = 0,
): { field: string; message: string } | undefined {
  const field = path || '(body)';
  if (depth > MAX_JSON_DEPTH) return { field, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (typeof value === 'string') {
    if (CONTROL_CHARACTERS.test(value)) return { field, message: 'must not contain control characters' };
    if (LONE_SURROGATE.test(value))
      return { field, message: 'must be valid Unicode (a lone surrogate was sent)' };
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const isArray = Array.isArray(value);
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}${path ? '.' : ''}${key}`;
    const found =
      (isArray ? undefined : unsafeText(key, `${at} (key)`, depth + 1)) ?? unsafeText(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * 400 for a JSON body with a control character, a lone surrogate or absurd nesting in it, before any
 * route or database sees it (Postgres refuses NUL in text, which used to surface as a 500).
 */
export const rejectUnsafeText: RequestHandler = (req, _res, next) => {
  const found = unsafeText(req.body);
  next(found ? problems.validation([found]) : undefined);
};

/**
 * What an error may show in a log line: its kind, message and codes — never a driver's query
 * parameters (a new user's password hash), values or the request body.
 */
export function loggableError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; driverError?: { code?: unknown } };
  return {
    type: e.name,
    message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.driverError?.code !== undefined ? { driverCode: e.driverError.code } : {}),
    stack: e.stack,
  };
}

/** Postgres refused a value itself (class 22, data exception): the request's fault, not the server's. */
function isDataException(err: unknown): boolean {
  const code =
    (err as { driverError?: { code?: string }; code?: string }).driverError?.code ??
    (err as { code?: string }).code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** 415 for a request that carries a body in anything but JSON. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(new HttpProblem(415, 'unsupported-media-type', 'Send the body as application/json'));
    return;
  }
  next();
};

/** Parse and validate `value` with `schema`; throws a 400 problem listing the fields. */
export function validate<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw problems.validation(fieldErrorsFromZod(parsed.error));
  return parsed.data;
}

interface BodyParserError {
  type?: string;
  status?: number;
}

// Connection-level failures and Postgres' "server is going away / not accepting" states: transient.
const DEPENDENCY_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
]);

/** True when an error means a database or broker is (briefly) unreachable, not that the request was wrong. */
export function isDependencyDown(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e.driverError?.code ?? e.code;
  if (code && DEPENDENCY_DOWN_CODES.has(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '');
}

/** 404 for unknown routes and problem+json for every error; never a stack trace to the client. */
export function finish(app: Express, logger: Logger): Express {
  app.use((req, _res, next) => next(problems.notFound(`No route for ${req.method} ${req.path}`)));
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    let problem: HttpProblem;
    const parserError = err as BodyParserError;
    if (err instanceof HttpProblem) problem = err;
    else if (parserError.type === 'entity.parse.failed') problem = new HttpProblem(400, 'invalid-json');
    else if (parserError.type === 'entity.too.large') problem = new HttpProblem(413, 'payload-too-large');
    else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported')
      problem = new HttpProblem(415, 'unsupported-media-type');
    else if (parserError.status && parserError.status >= 400 && parserError.status < 500)
      problem = new HttpProblem(parserError.status, 'validation-error', 'Malformed request');
    else if (isDataException(err)) {
      (req.log ?? logger).warn({ err: loggableError(err) }, 'value refused by the database');
      problem = problems.validation([{ field: '(body)', message: 'a value is not valid for its field' }]);
    } else if (isDependencyDown(err)) {
      (req.log ?? logger).warn({ err: loggableError(err) }, 'dependency unavailable');
      problem = new HttpProblem(503, 'service-unavailable', 'A dependency is unavailable; try again', {
        retryAfter: 1,
      });
    } else {
      (req.log ?? logger).error({ err: loggableError(err) }, 'unhandled error');
      problem = new HttpProblem(500, 'internal-error');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendProblem(res, problem, req.originalUrl);
  };
  app.use(onError);
  return app;
}

export type HealthCheck = () => Promise<unknown>;

/**
 * `/healthz`: the process answers. `/readyz`: every real dependency answers within its timeout.
 * `/metrics`: Prometheus text format.
 */
export function healthRoutes(checks: Record<string, HealthCheck>, timeoutMs = 2000): express.Router {
  const router = express.Router();
  router.get('/metrics', metricsHandler);
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, `fail: ${(err as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, status]) => status === 'ok');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(results) });
  });
  return router;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Listen and resolve once bound; port 0 picks a free port (tests). `options` tighten the server's own guards. */
export function listen(
  app: Express,
  port: number,
  host = '127.0.0.1',
  options: http.ServerOptions = {},
): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Keep-alive longer than the gateway's pool idle time so the gateway never reuses a closed socket.
    const server = http.createServer({ headersTimeout: 66_000, ...options }, app);
    server.keepAliveTimeout = 65_000;
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
