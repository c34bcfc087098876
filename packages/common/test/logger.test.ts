import { createLogger } from '../src/logger';

describe('logger redaction', () => {
  it('never writes card data, passwords, tokens or the service credential', () => {
    const lines: string[] = [];
    const logger = createLogger('redaction-test', 'info', { write: (line: string) => lines.push(line) });
    logger.info(
      {
        password: 'hunter2hunter2',
        body: { card: { number: '4242424242424242', cvc: '123', expMonth: 12 }, password: 'secret-pass' },
        card: { number: '4000000000000002', cvc: '999' },
        headers: { authorization: 'Bearer eyJhbGciOi', 'x-service-token': 'svc-token-value' },
        token: 'jwt-value',
      },
      'careless log line',
    );
    const out = lines.join('');
    for (const secret of [
      'hunter2hunter2',
      '4242424242424242',
      '4000000000000002',
      '"123"',
      '"999"',
      'secret-pass',
      'eyJhbGciOi',
      'svc-token-value',
      'jwt-value',
    ])
      expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({ msg: 'careless log line', body: { card: { expMonth: 12 } } });
  });
});
