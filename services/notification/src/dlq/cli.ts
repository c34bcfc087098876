/**
 * Operator tool for the notification dead letter queue:
 *   npm run dlq -- list
 *   npm run dlq -- replay --order <orderId>
 *   npm run dlq -- replay --all
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@paystream/common/config';
import { auditId, cliOperator, recordAudit } from '@paystream/common/operator';
import { createKafka } from '@paystream/common/kafka';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { connectTemporal, createWorkflowClient } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { readDlq } from './read';
import { replayDlq } from './replay';
import { retryBudget } from '../start-notification';

async function main(argv: string[]): Promise<number> {
  const [command, flag, value] = argv;
  const cfg = loadConfig();
  const kafka = createKafka('dlq-cli', cfg, { principal: 'notification' });
  const records = await readDlq(kafka);

  if (command === 'list') {
    if (!records.length) console.log('notification.dlq is empty');
    for (const r of records) {
      const original = r.entry?.original as { orderId?: string; eventId?: string } | undefined;
      console.log(
        [
          `p${r.partition}@${r.offset}`,
          `order=${original?.orderId ?? r.key ?? '-'}`,
          `event=${original?.eventId ?? '-'}`,
          `attempts=${r.entry?.attempts ?? '-'}`,
          `failedAt=${r.entry?.failedAt ?? '-'}`,
          `error=${r.entry?.error ?? r.unreadable ?? '-'}`,
        ].join('  '),
      );
    }
    return 0;
  }
  if (command === 'replay' && (flag === '--all' || (flag === '--order' && value))) {
    const connection = await connectTemporal(temporalConnectionOptions(cfg));
    try {
      const client = createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
      const select = flag === '--all' ? { all: true } : { orderId: value };
      const outcomes = await replayDlq(client, records, retryBudget(cfg), select);
      const op = cliOperator();
      const target = flag === '--all' ? 'dlq:all' : `order:${value}`;
      await recordAudit(
        { userServiceUrl: cfg.USER_SERVICE_URL, serviceToken: cfg.SERVICE_TOKEN },
        {
          id: auditId(op.keyId, 'dlq.replay', target, randomUUID()),
          keyId: op.keyId,
          keyName: op.name,
          action: 'dlq.replay',
          target,
          reason: `${outcomes.filter((o) => o.outcome === 'replayed').length} replayed`,
          outcome: 'ok',
        },
      );
      if (!outcomes.length) console.log('no matching DLQ entries');
      for (const o of outcomes)
        console.log(`order=${o.orderId ?? '-'}  event=${o.eventId ?? '-'}  ${o.outcome}`);
    } finally {
      await connection.close();
    }
    return 0;
  }
  console.error('usage: npm run dlq -- list | replay --order <orderId> | replay --all');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
