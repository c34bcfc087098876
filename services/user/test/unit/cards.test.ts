import { cardSchema, luhn, stripeProblem } from '../../src/domain/cards';

const valid = { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2030, cvc: '123' };

/** The messages of a failed parse, by field. */
function problemsOf(input: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const parsed = cardSchema.safeParse(input);
  for (const issue of parsed.error?.issues ?? []) (out[issue.path.join('.')] ??= []).push(issue.message);
  return out;
}

describe('luhn', () => {
  it.each([
    '4242424242424242',
    '4000000000000002',
    '5555555555554444',
    '378282246310005',
    '6011111111111117',
  ])('accepts the test card %s', (n) => expect(luhn(n)).toBe(true));

  it.each(['4242424242424241', '4242424242424224', '5555555555554445', '378282246310006'])(
    'refuses %s (one digit off or two swapped)',
    (n) => expect(luhn(n)).toBe(false),
  );

  it('doubles every second digit from the right, subtracting 9 above 9', () => {
    expect(luhn('18')).toBe(true); // 1*2 + 8 = 10
    expect(luhn('59')).toBe(true); // 5*2-9 + 9 = 10
    expect(luhn('95')).toBe(false); // 9*2-9 + 5 = 14
  });
});

describe('cardSchema', () => {
  it('accepts a valid card and drops spaces and dashes from the number', () => {
    expect(cardSchema.parse(valid)).toEqual({ ...valid, number: '4242424242424242' });
    expect(cardSchema.parse({ ...valid, number: '4242-4242-4242-4242' }).number).toBe('4242424242424242');
  });

  it('refuses a number that fails the Luhn check', () => {
    expect(problemsOf({ ...valid, number: '4242424242424241' })).toEqual({
      number: ['is not a valid card number'],
    });
  });

  it('refuses numbers that are not 12 to 19 digits', () => {
    // 11 digits that pass Luhn: only the length is wrong.
    expect(problemsOf({ ...valid, number: '42424242420' })).toEqual({ number: ['must be 12 to 19 digits'] });
    expect(problemsOf({ ...valid, number: '4'.repeat(20) }).number).toContain('must be 12 to 19 digits');
    expect(problemsOf({ ...valid, number: '4242abcd42424242' }).number).toContain('must be 12 to 19 digits');
    // Over 30 characters is refused before the number is even cleaned.
    expect(problemsOf({ ...valid, number: '4'.repeat(31) }).number).toHaveLength(1);
  });

  it('checks expiry and CVC', () => {
    expect(Object.keys(problemsOf({ ...valid, expMonth: 13 }))).toEqual(['expMonth']);
    expect(Object.keys(problemsOf({ ...valid, expMonth: 0 }))).toEqual(['expMonth']);
    expect(Object.keys(problemsOf({ ...valid, expYear: 1999 }))).toEqual(['expYear']);
    expect(problemsOf({ ...valid, cvc: '12' })).toEqual({ cvc: ['must be 3 or 4 digits'] });
    expect(problemsOf({ ...valid, cvc: '12345' })).toEqual({ cvc: ['must be 3 or 4 digits'] });
    expect(cardSchema.safeParse({ ...valid, cvc: '1234' }).success).toBe(true);
  });

  it('refuses unknown fields', () => {
    expect(cardSchema.safeParse({ ...valid, holder: 'Ada' }).success).toBe(false);
  });
});

describe('stripeProblem', () => {
  it('maps a declined card to 402 card-declined with Stripe’s code', () => {
    const p = stripeProblem({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'card_declined',
      message: 'No',
    });
    expect(p.toBody()).toMatchObject({
      status: 402,
      type: expect.stringMatching(/card-declined$/),
      code: 'card_declined',
    });
  });

  it('says only "declined" when decline details are withheld (production: card testers learn from codes)', () => {
    const p = stripeProblem(
      {
        type: 'StripeCardError',
        statusCode: 402,
        code: 'card_declined',
        message: 'Your card has insufficient funds.',
      },
      'paymentMethodId',
      { declineDetails: false },
    );
    expect(p.toBody()).toEqual({
      type: expect.stringMatching(/card-declined$/) as unknown,
      title: expect.any(String) as unknown,
      status: 402,
      detail: 'The card was declined',
    });
  });

  it('maps Stripe refusing the request to a 400 on paymentMethodId', () => {
    const p = stripeProblem({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      message: 'No such PaymentMethod',
    });
    expect(p.status).toBe(400);
    expect(p.extensions.errors).toEqual([{ field: 'paymentMethodId', message: 'No such PaymentMethod' }]);
  });

  it('maps anything else (Stripe down, network) to 502', () => {
    expect(stripeProblem(new Error('ECONNRESET')).status).toBe(502);
    expect(stripeProblem({ type: 'StripeAPIError', statusCode: 500 }).slug).toBe('payment-provider-error');
  });
});
