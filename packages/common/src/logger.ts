import pino, { type Logger } from 'pino';
import { logContext } from './tracing';

export type { Logger };

/**
 * Structured JSON logs. Secrets and card data are redacted at the source so a careless
 * `log.info({ body })` can never leak them.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'cardNumber',
  '*.cardNumber',
  'number',
  '*.number',
  'cvc',
  '*.cvc',
  'card.number',
  'card.cvc',
  '*.card.number',
  '*.card.cvc',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-service-token"]',
  'headers["x-service-token"]',
];

export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Trace id, span id and order id of whatever is running: one search finds an order's every line.
    mixin: logContext,
  };
  return destination ? pino(options, destination) : pino(options);
}
