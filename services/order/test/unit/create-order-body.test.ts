import { validate } from '@paystream/common/http';
import { HttpProblem, type ProblemBody } from '@paystream/common/problem';
import { createOrderBody, orderApi } from '../../src/api';

/** What POST /orders/create answers for `body`: the parsed order, or the 400 problem's body. */
function create(body: unknown): ReturnType<typeof createOrderBody.parse> | ProblemBody {
  try {
    return validate(createOrderBody, body);
  } catch (err) {
    if (!(err instanceof HttpProblem)) throw err;
    return err.toBody();
  }
}

const refused = (...errors: { field: string; message: unknown }[]) => ({
  status: 400,
  type: 'https://paystream.dev/problems/validation-error',
  errors,
});

describe('the create-order body', () => {
  it('refuses a currency Stripe cannot charge with a 400 naming currency', () => {
    for (const currency of ['xyz', 'XYZ', 'hrk'])
      expect(create({ amount: 5000, currency })).toMatchObject(
        refused({
          field: 'currency',
          message: 'must be a currency Stripe can charge (GET /openapi.json lists them)',
        }),
      );
  });

  it('still refuses what is not a 3-letter code as such', () => {
    expect(create({ amount: 5000, currency: 'dollars' })).toMatchObject(
      refused({ field: 'currency', message: 'must be a 3-letter ISO 4217 code' }),
    );
  });

  it('takes a currency in any case and answers it in lower case', () => {
    for (const currency of ['EUR', 'eur', 'Eur'])
      expect(create({ amount: 2599, currency })).toEqual({ amount: 2599, currency: 'eur', items: null });
  });

  it('refuses an amount below the currency’s minimum charge with a 400 naming amount', () => {
    expect(create({ amount: 49, currency: 'eur' })).toMatchObject(
      refused({ field: 'amount', message: 'must be at least 50 (€0.50), the smallest charge in EUR' }),
    );
    expect(create({ amount: 1, currency: 'usd' })).toMatchObject(
      refused({ field: 'amount', message: expect.stringMatching(/^must be at least 50/) }),
    );
    expect(create({ amount: 49, currency: 'jpy' })).toMatchObject(
      refused({ field: 'amount', message: expect.any(String) }),
    );
  });

  it('accepts the minimum charge itself', () => {
    expect(create({ amount: 50, currency: 'EUR' })).toEqual({ amount: 50, currency: 'eur', items: null });
    expect(create({ amount: 30, currency: 'gbp' })).toMatchObject({ amount: 30 });
  });

  it('refuses what Stripe cannot charge in three-decimal currencies and ISK, naming amount', () => {
    expect(create({ amount: 5125, currency: 'kwd' })).toMatchObject(
      refused({ field: 'amount', message: expect.stringMatching(/^must end in 0/) }),
    );
    expect(create({ amount: 5120, currency: 'kwd' })).toMatchObject({ amount: 5120, currency: 'kwd' });
    expect(create({ amount: 50_050, currency: 'isk' })).toMatchObject(
      refused({ field: 'amount', message: expect.stringMatching(/^must be a multiple of 100/) }),
    );
  });

  it('checks the items’ total, naming items', () => {
    const items = [{ sku: 'sticker', quantity: 2, unitAmount: 20 }];
    expect(create({ items, currency: 'eur' })).toMatchObject(
      refused({ field: 'items', message: 'total must be at least 50 (€0.50), the smallest charge in EUR' }),
    );
    expect(create({ items: [{ ...items[0], quantity: 3 }], currency: 'eur' })).toMatchObject({ amount: 60 });
  });

  it('names only currency when both the currency and the amount are wrong', () => {
    expect(create({ amount: 1, currency: 'xyz' })).toMatchObject(
      refused({ field: 'currency', message: expect.any(String) }),
    );
  });
});

describe('the create-order operation in the OpenAPI document', () => {
  it('documents currency as a 3-letter code of any case, listing the currencies Stripe can charge', () => {
    const create = (orderApi as { paths: Record<string, Record<string, unknown>> }).paths['/create']!
      .post as {
      requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
    };
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.properties.currency).toEqual({
      type: 'string',
      pattern: '^[A-Za-z]{3}$',
      description: expect.stringMatching(/Stripe can charge: aed, .*eur, .*jpy, .*kwd, .*usd, .*zmw\.$/),
    });
  });
});
