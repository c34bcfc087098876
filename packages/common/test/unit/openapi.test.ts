import { z } from 'zod';
import { openApiDocument, openApiPath, type OperationDoc } from '../../src/openapi';

/** The OpenAPI operations come out of the very zod schemas the routes validate with. */
const body = z
  .strictObject({ amount: z.number().int().min(1).optional(), note: z.string().max(10).optional() })
  .transform((b) => ({ ...b, amount: b.amount ?? 1 }));
const op: OperationDoc = {
  method: 'post',
  path: '/things/:thingId/bump',
  operationId: 'bumpThing',
  summary: 'Bump a thing',
  tag: 'Things',
  auth: 'user',
  params: z.object({ thingId: z.uuid() }),
  query: z.object({ dryRun: z.coerce.boolean().optional(), limit: z.coerce.number().int().default(5) }),
  headers: z.object({
    'Idempotency-Key': z.string().max(128).optional().meta({ description: 'Once only.' }),
  }),
  body,
  bodyExample: { amount: 2 },
  responses: {
    200: { description: 'Bumped.', body: z.object({ ok: z.boolean() }), headers: { Location: 'Where.' } },
  },
  problems: { 404: 'No such thing.' },
};
const doc = openApiDocument({ title: 'Things', version: '1' }, [op]) as {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};
const operation = doc.paths['/things/{thingId}/bump']!.post!;

test('Express paths become OpenAPI templates', () => {
  expect(openApiPath('/status/:orderId')).toBe('/status/{orderId}');
  expect(doc.openapi).toBe('3.1.0');
});

test('parameters come from the zod objects, required where zod requires them', () => {
  expect(operation.parameters).toEqual([
    { name: 'thingId', in: 'path', required: true, schema: expect.objectContaining({ format: 'uuid' }) },
    { name: 'dryRun', in: 'query', required: false, schema: { type: 'boolean' } },
    {
      name: 'limit',
      in: 'query',
      required: false,
      schema: expect.objectContaining({ type: 'integer', default: 5 }),
    },
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Once only.',
      schema: { type: 'string', maxLength: 128 },
    },
  ]);
});

test('the body is what a client sends (before transforms), strict, with its example', () => {
  expect(operation.requestBody).toEqual({
    required: true,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            note: { type: 'string', maxLength: 10 },
          },
          additionalProperties: false,
        },
        example: { amount: 2 },
      },
    },
  });
});

test('answers: JSON bodies with their headers, errors as problem+json, the user bearer scheme', () => {
  expect(operation.security).toEqual([{ bearerAuth: [] }]);
  const responses = operation.responses as Record<
    string,
    { content: Record<string, { schema: unknown }>; headers?: unknown }
  >;
  expect(responses[200]!.content['application/json']!.schema).toEqual(
    expect.objectContaining({ required: ['ok'] }),
  );
  expect(responses[200]!.headers).toEqual({
    Location: { description: 'Where.', schema: { type: 'string' } },
  });
  expect(responses[404]!.content).toEqual({
    'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
  });
  expect(Object.keys(doc.components.schemas)).toEqual(['Problem']);
  expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ scheme: 'bearer' }));
});
