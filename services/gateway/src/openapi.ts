import path from 'node:path';
import { type Logger } from '@paystream/common/logger';
import { problemResponse, type ResponseObject } from '@paystream/common/openapi';
import { HttpProblem } from '@paystream/common/problem';
import type { RequestHandler, Router } from 'express';
import { upstreamGet } from './upstream-get';
import { pageRoutes, readPage } from './pages';

/**
 * GET /openapi.json: the public API as one OpenAPI 3.1 document, merged from the documents the services
 * generate from their own zod schemas (each at GET /openapi.json on its port), under the prefixes the
 * gateway routes them by, plus the answers the gateway itself gives (401, 429, 502, 504). Fetched when
 * asked and kept for a minute, so a service deployed on its own shows its new contract without a
 * gateway release; the last good document is served while a service is briefly away.
 */
export interface ApiSource {
  /** Base URL of the service. */
  url: string;
  /** The gateway path its routes are under ('' when forwarded unchanged). */
  prefix: string;
  /** Whether the gateway's rate limit applies (not to Stripe's webhooks). */
  rateLimited: boolean;
}

/** The services whose documents the gateway serves, under the paths it routes them by (see proxy.ts). */
const API_SOURCES = {
  user: { prefix: '/users', rateLimited: true },
  order: { prefix: '/orders', rateLimited: true },
  payment: { prefix: '', rateLimited: false },
  notification: { prefix: '', rateLimited: true },
} as const;

/** The gateway's API sources, given where each service is. */
export function apiSources(urls: Record<keyof typeof API_SOURCES, string>): ApiSource[] {
  return (Object.keys(API_SOURCES) as (keyof typeof API_SOURCES)[]).map((name) => ({
    url: urls[name],
    ...API_SOURCES[name],
  }));
}

type Json = Record<string, unknown>;
type Operation = Json & {
  security?: unknown[];
  responses: Record<string, ResponseObject>;
  requestBody?: unknown;
};

const FRESH_MS = 60_000;

/** What the gateway adds to every operation it forwards; where the service gives the same status, both say why. */
function withGatewayAnswers(op: Operation, rateLimited: boolean): Operation {
  const gateway: Record<number, string> = {};
  const security = (op.security ?? []) as Record<string, unknown>[];
  const operator = security.some((s) => 'operatorKey' in s);
  if (operator) gateway[401] = 'No API key, or an unknown or revoked one.';
  else if (security.length > 0) gateway[401] = 'No token, or an invalid or expired one.';
  if (op.requestBody) gateway[413] = 'Body too large.';
  // The operator API is limited wherever it is served: per client address, then per key.
  if (operator) gateway[429] = 'Rate limit reached (per client address, then per API key).';
  else if (rateLimited) gateway[429] = 'Rate limit reached (per user, or per address before sign-in).';
  if (operator) gateway[503] = 'API keys cannot be checked right now; try again.';
  gateway[502] = 'The service behind this route is unavailable.';
  gateway[504] = 'The service behind this route did not answer in time.';
  const responses = { ...op.responses };
  for (const [status, why] of Object.entries(gateway)) {
    const own = responses[status];
    responses[status] = own
      ? { ...own, description: `${own.description} Or: ${why}` }
      : problemResponse(Number(status), why);
  }
  return { ...op, responses };
}

export function mergeApiDocuments(documents: readonly (ApiSource & { doc: Json })[]): Json {
  const paths: Record<string, Record<string, Operation>> = {};
  const schemas: Json = {};
  let securitySchemes: Json = {};
  for (const { prefix, rateLimited, doc } of documents) {
    for (const [route, ops] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      // The operator API is served under /admin by each service and forwarded unchanged.
      const full = (route.startsWith('/admin/') ? route : prefix + route).replace(/(.)\/$/, '$1');
      for (const [method, op] of Object.entries(ops))
        (paths[full] ??= {})[method] = withGatewayAnswers(op, rateLimited);
    }
    const components = (doc.components ?? {}) as { schemas?: Json; securitySchemes?: Json };
    Object.assign(schemas, components.schemas);
    securitySchemes = { ...securitySchemes, ...components.securitySchemes };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Paystream API',
      version: '1',
      description:
        'Orders charged through Stripe, with an email for each outcome. Sign up, sign in for a bearer ' +
        'token, save a card, place orders and follow them. Operators (API keys, scoped; under /admin): search ' +
        'orders and read their story, refund, capture and void, the dead letter queue, reconciliation, ' +
        'webhook endpoints for the merchant’s own systems, the audit log — and the console at ' +
        '[/console](/console). Every error is `application/problem+json` (RFC 9457). Outside production, a ' +
        'click-through checkout is at [/demo](/demo).',
      // As package.json says; SPDX id (3.1: `identifier` or `url`, not both).
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: the gateway that served this document, whatever origin it was reached at (localhost:8080,
    // docker compose, behind a proxy), so Swagger UI at /docs calls its own origin, as its CSP
    // (connect-src 'self') requires. A fixed public URL would be wrong wherever the gateway is reached otherwise.
    servers: [{ url: '/', description: 'This gateway: the origin this document was fetched from.' }],
    paths,
    components: { schemas, securitySchemes },
  };
}

export function openApiRoute(sources: readonly ApiSource[], logger: Logger): RequestHandler {
  let cached: { doc: Json; at: number } | undefined;
  const fetchDoc = async (source: ApiSource) => {
    const res = await upstreamGet(new URL('/openapi.json', source.url), 3000);
    if (res.status !== 200) throw new Error(`${source.url}: HTTP ${res.status}`);
    return { ...source, doc: JSON.parse(res.body) as Json };
  };
  return async (_req, res) => {
    if (!cached || Date.now() - cached.at > FRESH_MS) {
      try {
        cached = { doc: mergeApiDocuments(await Promise.all(sources.map(fetchDoc))), at: Date.now() };
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'a service did not give its API document');
        if (!cached)
          throw new HttpProblem(503, 'service-unavailable', 'The API description is not available yet');
      }
    }
    res.setHeader('cache-control', 'no-cache');
    res.json(cached.doc);
  };
}

/** Swagger UI from the npm package, served from here (no CDN): GET /docs. */
export function docsRoutes(): Router {
  const page = path.join(__dirname, '..', 'static', 'docs');
  const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const files: Record<string, string> = { 'init.js': path.join(page, 'init.js') };
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'])
    files[file] = path.join(swaggerUi, file);
  return pageRoutes({
    at: '/docs',
    contentSecurityPolicy:
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
      "connect-src 'self'; frame-ancestors 'none'",
    html: readPage(path.join(page, 'index.html')),
    files,
    cacheControl: 'public, max-age=300',
  });
}
