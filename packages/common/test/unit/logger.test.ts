import { createLogger } from '../../src/logger';
import { inSpan, withLogFields } from '../../src/tracing';

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

describe('log context', () => {
  it('puts the active trace id and the order id on every line, however deep the call', async () => {
    const lines: string[] = [];
    const logger = createLogger('context-test', 'info', { write: (line: string) => lines.push(line) });
    const deep = async () => {
      await new Promise((r) => setTimeout(r, 5)); // across an await, as in a real handler
      logger.info('deep inside');
    };
    let traceId = '';
    await inSpan('order.create process', {}, async (span) => {
      traceId = span.spanContext().traceId;
      await withLogFields({ orderId: 'order-1' }, deep);
    });
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(inside).toMatchObject({ msg: 'deep inside', traceId, orderId: 'order-1' });
    expect(outside).not.toHaveProperty('traceId');
    expect(outside).not.toHaveProperty('orderId');
  });
});
