import { z } from 'zod';
import {
  fieldErrorsFromZod,
  HttpProblem,
  PROBLEM_BASE,
  PROBLEM_CONTENT_TYPE,
  problems,
} from '../../src/problem';

describe('HttpProblem (RFC 9457)', () => {
  it('renders type, title, status, detail and instance', () => {
    const body = new HttpProblem(404, 'not-found', 'No order 42').toBody('/orders/42');
    expect(body).toEqual({
      type: 'https://paystream.dev/problems/not-found',
      title: 'Resource not found',
      status: 404,
      detail: 'No order 42',
      instance: '/orders/42',
    });
    expect(PROBLEM_CONTENT_TYPE).toBe('application/problem+json');
  });

  it('leaves detail and instance out when there are none', () => {
    expect(new HttpProblem(500, 'internal-error').toBody()).toEqual({
      type: `${PROBLEM_BASE}internal-error`,
      title: 'Internal server error',
      status: 500,
    });
  });

  it('keeps the same title for every instance of a type and uses the slug for unknown ones', () => {
    expect(new HttpProblem(409, 'conflict', 'a').toBody().title).toBe(
      new HttpProblem(409, 'conflict', 'b').toBody().title,
    );
    expect(new HttpProblem(418, 'teapot').toBody()).toMatchObject({
      title: 'teapot',
      type: `${PROBLEM_BASE}teapot`,
    });
  });

  it('adds extension members at the top level', () => {
    const body = new HttpProblem(402, 'card-declined', 'Declined', { code: 'insufficient_funds' }).toBody();
    expect(body.code).toBe('insufficient_funds');
  });

  it('is an Error whose message is the detail, or the title', () => {
    const withDetail = new HttpProblem(403, 'forbidden', 'Not your order');
    expect(withDetail).toBeInstanceOf(Error);
    expect(withDetail.message).toBe('Not your order');
    expect(new HttpProblem(403, 'forbidden').message).toBe('Forbidden');
  });
});

describe('problems', () => {
  it.each([
    [problems.notFound(), 404, 'not-found'],
    [problems.unauthorized(), 401, 'unauthorized'],
    [problems.forbidden(), 403, 'forbidden'],
    [problems.conflict(), 409, 'conflict'],
    [problems.validation([]), 400, 'validation-error'],
    [problems.rateLimited(3), 429, 'rate-limited'],
  ])('%# has the right status and type', (problem, status, slug) => {
    expect(problem.status).toBe(status);
    expect(problem.toBody().type).toBe(PROBLEM_BASE + slug);
  });

  it('lists field errors and the retry delay as extensions', () => {
    const errors = [{ field: 'amount', message: 'must be positive' }];
    expect(problems.validation(errors).toBody()).toMatchObject({
      detail: 'One or more fields are invalid',
      errors,
    });
    expect(problems.rateLimited(7, 'Slow down').toBody()).toMatchObject({
      retryAfter: 7,
      detail: 'Slow down',
    });
  });
});

describe('fieldErrorsFromZod', () => {
  it('names nested fields by path and the body itself as (body)', () => {
    const schema = z.object({
      card: z.object({ cvc: z.string().length(3, 'must be 3 digits') }),
      amount: z.number(),
    });
    const fields = schema.safeParse({ card: { cvc: '12' }, amount: 'ten' });
    expect(fields.success).toBe(false);
    expect(fieldErrorsFromZod(fields.error!)).toEqual([
      { field: 'card.cvc', message: 'must be 3 digits' },
      { field: 'amount', message: expect.stringContaining('number') },
    ]);
    const body = z.object({}).safeParse('not an object');
    expect(fieldErrorsFromZod(body.error!)).toEqual([{ field: '(body)', message: expect.any(String) }]);
  });
});
