import { z, type ZodObject, type ZodType } from 'zod';
import type { OperatorScope } from './operator';
import { PROBLEM_BASE, PROBLEM_CONTENT_TYPE } from './problem';

/**
 * OpenAPI 3.1 from the zod schemas that validate the requests, so the contract cannot drift from the
 * code. Each service describes its public routes (`OperationDoc`) next to their schemas and serves the
 * result at GET /openapi.json on its own port; the gateway merges those under its prefixes.
 */
type Json = Record<string, unknown>;

export interface ResponseDoc {
  description: string;
  /** A JSON body; none for an empty answer. */
  body?: ZodType;
  example?: unknown;
  /** Response headers this answer may carry: name → description. */
  headers?: Record<string, string>;
}

export interface OperationDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** The service's own Express path, e.g. `/status/:orderId`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /**
   * `user`: a bearer token from POST /users/signin. `operator`: an API key holding `scope` (the operator API,
   * under /admin). `public`: none (the gateway lets it through).
   */
  auth: 'user' | 'public' | 'operator';
  /** With `operator`: the scope the key must hold (none: any valid key). */
  scope?: OperatorScope;
  params?: ZodObject;
  query?: ZodObject;
  /** Request headers but Authorization, which the security scheme describes. */
  headers?: ZodObject;
  body?: ZodType;
  bodyExample?: unknown;
  /** Whether the body may be left out (an empty POST). */
  bodyOptional?: boolean;
  /** The body is read as bytes (a signature is checked on them), not parsed as JSON: no 415. */
  rawBody?: boolean;
  responses: Record<number, ResponseDoc>;
  /** The problem+json answers of this operation: status → when. */
  problems: Record<number, string>;
}

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a client sends (`input`) or receives (`output`). */
export function jsonSchema(schema: ZodType, io: 'input' | 'output'): Json {
  // Refinements and transforms have no JSON Schema; the description says what they check.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

const PROBLEM_SCHEMA_REF = { $ref: '#/components/schemas/Problem' };

/** RFC 9457 problem details, as `sendProblem` writes them. */
const problemSchema: Json = {
  type: 'object',
  description: 'RFC 9457 problem details. Branch on `type`; `detail` explains this occurrence.',
  properties: {
    type: { type: 'string', format: 'uri', examples: [`${PROBLEM_BASE}validation-error`] },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'With validation-error: one entry per invalid field.',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
    retryAfter: { type: 'integer', description: 'With rate-limited: seconds to wait (also Retry-After).' },
  },
  required: ['type', 'title', 'status'],
};

/** An OpenAPI response object. */
export interface ResponseObject {
  description: string;
  headers?: Json;
  content?: Json;
}

/** Response headers, all strings: name → description. */
const headerObjects = (headers: Record<string, string>): Json =>
  Object.fromEntries(
    Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
  );

/** A problem+json answer; 429 and 503 carry Retry-After, as `sendProblem` sets it from `retryAfter`. */
export const problemResponse = (status: number, description: string): ResponseObject => ({
  description,
  ...(status === 429 || status === 503
    ? { headers: headerObjects({ 'Retry-After': 'Seconds to wait before trying again.' }) }
    : {}),
  content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_SCHEMA_REF } },
});

/** Path, query and header parameters from one zod object each. */
function parameters(where: 'path' | 'query' | 'header', schema: ZodObject | undefined): Json[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, { description, ...fieldSchema }]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema: fieldSchema,
  }));
}

function response(doc: ResponseDoc): Json {
  return {
    description: doc.description,
    ...(doc.headers ? { headers: headerObjects(doc.headers) } : {}),
    ...(doc.body
      ? {
          content: {
            'application/json': {
              schema: jsonSchema(doc.body, 'output'),
              ...(doc.example !== undefined ? { example: doc.example } : {}),
            },
          },
        }
      : {}),
  };
}

function operation(op: OperationDoc): Json {
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.auth === 'operator' ? OPERATOR_TAG : op.tag],
    security:
      op.auth === 'user'
        ? [{ bearerAuth: [] }]
        : op.auth === 'operator'
          ? [{ operatorKey: op.scope ? [op.scope] : [] }]
          : [],
    parameters: [
      ...parameters('path', op.params),
      ...parameters('query', op.query),
      ...parameters('header', op.headers),
    ],
    ...(op.body
      ? {
          requestBody: {
            required: !op.bodyOptional,
            content: {
              'application/json': {
                schema: jsonSchema(op.body, 'input'),
                ...(op.bodyExample !== undefined ? { example: op.bodyExample } : {}),
              },
            },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(Object.entries(op.responses).map(([status, doc]) => [status, response(doc)])),
      ...Object.fromEntries(
        Object.entries({ ...serviceProblems(op), ...op.problems }).map(([status, when]) => [
          status,
          problemResponse(Number(status), when),
        ]),
      ),
    },
  };
}

/** Every operator route is under this tag, whatever service answers it. */
export const OPERATOR_TAG = 'Operator';

/** What every service answers by itself (`createServiceApp` and `finish`), whatever the route. */
function serviceProblems(op: OperationDoc): Record<number, string> {
  const answers: Record<number, string> = {
    503: 'A database or broker is briefly unavailable; try again (Retry-After).',
  };
  if (op.auth === 'operator' && op.scope) answers[403] = `The API key lacks the scope ${op.scope}.`;
  if (op.body && !op.rawBody) {
    answers[400] = 'Invalid JSON or body.';
    answers[415] = 'The body is not application/json.';
  }
  return answers;
}

/** `/status/:orderId` → `/status/{orderId}`. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** A whole OpenAPI 3.1 document for a set of operations. */
export function openApiDocument(info: ApiInfo, ops: readonly OperationDoc[]): Json {
  const paths: Record<string, Json> = {};
  for (const op of ops) (paths[openApiPath(op.path)] ??= {})[op.method] = operation(op);
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The `token` from POST /users/signin, as `Authorization: Bearer <token>`.',
        },
        operatorKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'psk_<id>_<secret>',
          description:
            'An operator API key (`npm run ops -- keys create --name … --scopes …`), as `Authorization: Bearer psk_…`. ' +
            'Each operation names the scope it needs.',
        },
      },
    },
  };
}
