/**
 * Operator tool for payments:
 *   npm run ops -- refund --order <orderId> [--amount <minor units>] [--reason <text>] [--request-id <id>]
 * A refund runs in the order's refunds workflow (Temporal); the whole payment when --amount is absent.
 * --request-id names the request: asking again with the same id (after a timeout, say) is the same
 * refund, never a second one; without it a fresh id is drawn and printed.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import {
  connectTemporal,
  createWorkflowClient,
  dataConverterFor,
  HttpProblem,
  loadConfig,
  temporalConnectionOptions,
} from '@paystream/common';
import { z } from 'zod';
import { refundOrder } from '../after-sale';

const USAGE =
  'usage: npm run ops -- refund --order <orderId> [--amount <minor units>] [--reason <text>] [--request-id <id>]';

const refundArgs = z.object({
  order: z.uuid(),
  amount: z.coerce.number().int().positive().max(99_999_999).optional(),
  reason: z.string().min(1).max(500).optional(),
  'request-id': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/)
    .default(() => randomUUID()),
});

const parseCommandLine = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      order: { type: 'string' },
      amount: { type: 'string' },
      reason: { type: 'string' },
      'request-id': { type: 'string' },
    },
  });

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const args = refundArgs.safeParse(parsed.values);
  if (parsed.positionals[0] !== 'refund' || !args.success) {
    console.error(args.success ? USAGE : `${z.prettifyError(args.error)}\n${USAGE}`);
    return 2;
  }
  const { order, amount, reason, 'request-id': requestId } = args.data;
  // First, so an operator whose command timed out or crashed can ask again with the same id.
  console.error(`refund request ${requestId} for order ${order}`);
  const cfg = loadConfig();
  const connection = await connectTemporal(temporalConnectionOptions(cfg));
  try {
    const client = createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
    const outcome = await refundOrder({ client, authTimeoutSeconds: cfg.PAYMENT_AUTH_TIMEOUT }, order, {
      requestId,
      ...(amount ? { amount } : {}),
      ...(reason ? { reason } : {}),
    });
    console.log(JSON.stringify({ orderId: order, requestId, ...outcome }));
    return 0;
  } catch (err) {
    if (!(err instanceof HttpProblem)) throw err;
    console.error(`refund refused: ${err.detail ?? err.message}`);
    return 1;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
