import { z } from 'zod';
import { openApiDocument } from '@paystream/common/openapi';
import { mergeApiDocuments } from '../../src/openapi';

/** The gateway's merge: each service's paths under its prefix, plus the answers only the gateway gives. */
const doc = (path: string, auth: 'user' | 'public') =>
  openApiDocument({ title: 'x', version: '1' }, [
    {
      method: 'post',
      path,
      operationId: `op${path}`,
      summary: 's',
      tag: 't',
      auth,
      body: z.object({ a: z.string() }),
      responses: { 200: { description: 'ok' } },
      problems: { 400: 'bad' },
    },
  ]);

const merged = mergeApiDocuments([
  { url: 'http://user', prefix: '/users', rateLimited: true, doc: doc('/signin', 'public') },
  { url: 'http://order', prefix: '/orders', rateLimited: true, doc: doc('/', 'user') },
  { url: 'http://payment', prefix: '', rateLimited: false, doc: doc('/webhooks/stripe', 'public') },
]) as { openapi: string; paths: Record<string, { post: { responses: Record<string, unknown> } }> };
const statuses = (path: string) => Object.keys(merged.paths[path]!.post.responses).sort();

test('paths land under the prefixes the gateway routes by, without a trailing slash', () => {
  expect(merged.openapi).toBe('3.1.0');
  expect(Object.keys(merged.paths)).toEqual(['/users/signin', '/orders', '/webhooks/stripe']);
});

test('the gateway adds 401 to signed-in routes, 429 where it rate-limits, 413 to bodies, 502/504 to all', () => {
  expect(statuses('/users/signin')).toEqual(['200', '400', '413', '415', '429', '502', '503', '504']);
  expect(statuses('/orders')).toEqual(['200', '400', '401', '413', '415', '429', '502', '503', '504']);
  expect(statuses('/webhooks/stripe')).toEqual(['200', '400', '413', '415', '502', '503', '504']);
});

test("where a service already gives the gateway's status, the description says both", () => {
  const withThrottle = openApiDocument({ title: 'x', version: '1' }, [
    {
      method: 'post',
      path: '/add',
      operationId: 'add',
      summary: 's',
      tag: 't',
      auth: 'user',
      responses: { 201: { description: 'ok' } },
      problems: { 429: 'Too many cards tried.', 502: 'Stripe is unavailable.' },
    },
  ]);
  const [merged] = Object.values(
    (
      mergeApiDocuments([{ url: 'http://user', prefix: '/users', rateLimited: true, doc: withThrottle }]) as {
        paths: Record<
          string,
          { post: { responses: Record<string, { description: string; headers?: object }> } }
        >;
      }
    ).paths,
  );
  const { 429: limited, 502: down } = merged!.post.responses;
  expect(limited!.description).toMatch(/^Too many cards tried\. Or: Rate limit reached/);
  expect(limited!.headers).toHaveProperty('Retry-After');
  expect(down!.description).toMatch(/^Stripe is unavailable\. Or: The service behind this route/);
});
