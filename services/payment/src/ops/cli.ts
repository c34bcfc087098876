/**
 * Operator tool for payments:
 *   npm run ops -- refund --order <orderId> [--amount <minor units>] [--reason <text>] [--request-id <id>]
 *   npm run ops -- capture --order <orderId> [--amount <minor units>] [--request-id <id>]
 *   npm run ops -- recon list [--all]            reconciliation's findings (unresolved; --all: every one)
 *   npm run ops -- recon show <id>               one finding, and the order's ledger row and movements
 *   npm run ops -- recon resolve <id> --reason <text>
 * A refund runs in the order's refunds workflow (Temporal); the whole payment when --amount is absent. A
 * capture takes an authorized order's money (all of it when --amount is absent; once). --request-id names
 * the request: asking again with the same id (after a timeout, say) is the same refund or capture, never a
 * second one; without it a fresh id is drawn and printed. The recon commands read and
 * write the payment ledger (PAYMENT_DATABASE_URL).
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@paystream/common/config';
import { initDataSource } from '@paystream/common/db';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { connectTemporal, createWorkflowClient } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { z } from 'zod';
import { auditId, cliOperator, recordAudit } from '@paystream/common/operator';
import { captureOrder, PaymentRefused, refundOrder, type AfterSaleDeps } from '../after-sale';
import { paymentDataSource } from '../ledger/data-source';
import { Ledger } from '../ledger/ledger';
import { paymentOptions } from '../payment-options';

const USAGE = `usage: npm run ops -- refund --order <orderId> [--amount <minor units>] [--reason <text>] [--request-id <id>]
       npm run ops -- capture --order <orderId> [--amount <minor units>] [--request-id <id>]
       npm run ops -- recon list [--all] | recon show <id> | recon resolve <id> --reason <text>`;

const refundArgs = z.object({
  order: z.uuid(),
  amount: z.coerce.number().int().positive().max(99_999_999).optional(),
  reason: z.string().min(1).max(500).optional(),
  'request-id': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/)
    .default(() => randomUUID()),
});
const captureArgs = refundArgs.omit({ reason: true });

/**
 * An action of this tool, done or refused, in the audit log (the user service's), as the operator API records
 * its own: by `cli:<shell user>`, once per request id.
 */
async function audited<T>(
  action: string,
  target: string,
  requestId: string,
  reason: string | undefined,
  work: () => Promise<T>,
) {
  const cfg = loadConfig();
  const op = cliOperator();
  const record = (outcome: string) =>
    recordAudit(
      { userServiceUrl: cfg.USER_SERVICE_URL, serviceToken: cfg.SERVICE_TOKEN },
      {
        id: auditId(op.keyId, action, target, requestId),
        keyId: op.keyId,
        keyName: op.name,
        action,
        target,
        ...(reason ? { reason } : {}),
        requestId,
        outcome,
      },
    );
  try {
    const result = await work();
    await record('ok');
    return result;
  } catch (err) {
    if (err instanceof PaymentRefused) await record(`refused: ${err.message}`);
    throw err;
  }
}

/** Temporal and the ledger, as the payment service holds them, for one command. */
async function withAfterSale<T>(work: (deps: AfterSaleDeps) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const connection = await connectTemporal(temporalConnectionOptions(cfg));
  const db = await initDataSource(paymentDataSource(cfg.PAYMENT_DATABASE_URL));
  try {
    const client = createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
    return await work({ client, paymentOptions: paymentOptions(cfg), ledger: new Ledger(db) });
  } finally {
    await db.destroy();
    await connection.close();
  }
}

const reconArgs = z.discriminatedUnion('command', [
  z.object({ command: z.literal('list'), all: z.boolean().default(false) }),
  z.object({ command: z.literal('show'), id: z.string().regex(/^\d{1,18}$/, 'a finding id') }),
  z.object({
    command: z.literal('resolve'),
    id: z.string().regex(/^\d{1,18}$/, 'a finding id'),
    reason: z.string().min(1).max(500),
  }),
]);

const parseCommandLine = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      order: { type: 'string' },
      amount: { type: 'string' },
      reason: { type: 'string' },
      'request-id': { type: 'string' },
      all: { type: 'boolean' },
    },
  });

type CommandLine = ReturnType<typeof parseCommandLine>;

async function refund(values: CommandLine['values']): Promise<number> {
  const args = refundArgs.safeParse(values);
  if (!args.success) {
    console.error(`${z.prettifyError(args.error)}\n${USAGE}`);
    return 2;
  }
  const { order, amount, reason, 'request-id': requestId } = args.data;
  // First, so an operator whose command timed out or crashed can ask again with the same id.
  console.error(`refund request ${requestId} for order ${order}`);
  try {
    const outcome = await audited('refund.create', `order:${order}`, requestId, reason, () =>
      withAfterSale((deps) =>
        refundOrder(deps, order, { requestId, ...(amount ? { amount } : {}), ...(reason ? { reason } : {}) }),
      ),
    );
    console.log(JSON.stringify({ orderId: order, requestId, ...outcome }));
    return 0;
  } catch (err) {
    if (!(err instanceof PaymentRefused)) throw err;
    console.error(`refund refused: ${err.message}`);
    return 1;
  }
}

async function capture(values: CommandLine['values']): Promise<number> {
  const args = captureArgs.safeParse(values);
  if (!args.success) {
    console.error(`${z.prettifyError(args.error)}\n${USAGE}`);
    return 2;
  }
  const { order, amount, 'request-id': requestId } = args.data;
  console.error(`capture request ${requestId} for order ${order}`);
  try {
    const outcome = await audited('capture.create', `order:${order}`, requestId, undefined, () =>
      withAfterSale((deps) => captureOrder(deps, order, { requestId, ...(amount ? { amount } : {}) })),
    );
    console.log(JSON.stringify({ orderId: order, requestId, ...outcome }));
    return 0;
  } catch (err) {
    if (!(err instanceof PaymentRefused)) throw err;
    console.error(`capture refused: ${err.message}`);
    return 1;
  }
}

/** One JSON object per line: readable, and `jq`-able. */
async function recon(positionals: string[], values: CommandLine['values']): Promise<number> {
  const args = reconArgs.safeParse({ command: positionals[1], id: positionals[2], ...values });
  if (!args.success) {
    console.error(`${z.prettifyError(args.error)}\n${USAGE}`);
    return 2;
  }
  const db = await initDataSource(paymentDataSource(loadConfig().PAYMENT_DATABASE_URL));
  try {
    const ledger = new Ledger(db);
    const a = args.data;
    if (a.command === 'list') {
      for (const row of await ledger.drift({ includeResolved: a.all, limit: 1000 }))
        console.log(JSON.stringify(row));
      return 0;
    }
    const found =
      a.command === 'show'
        ? await ledger.driftById(a.id)
        : (await ledger.driftById(a.id)) &&
          (await audited('drift.resolve', `drift:${a.id}`, a.id, a.reason, () =>
            ledger.resolveDrift(a.id, a.reason),
          ));
    if (!found) {
      console.error(`no finding ${a.id}`);
      return 1;
    }
    console.log(JSON.stringify(found));
    if (a.command === 'show' && found.orderId) {
      console.log(JSON.stringify({ payment: (await ledger.payment(found.orderId)) ?? null }));
      for (const m of await ledger.movements(found.orderId)) console.log(JSON.stringify({ movement: m }));
    }
    return 0;
  } finally {
    await db.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: CommandLine;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (command === 'refund') return refund(parsed.values);
  if (command === 'capture') return capture(parsed.values);
  if (command === 'recon') return recon(parsed.positionals, parsed.values);
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
