import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { HISTORIES_DIR as HISTORIES } from '../../test/support/histories';
import { loadConfig } from '@paystream/common/config';
import { dataConverterFor, FAILURE_CONVERTER_PATH } from '@paystream/common/payload-codec';
import { tracing } from '@paystream/common/tracing';
import { tracingWorkerOptions, WORKFLOW_TRACING_MODULES } from '../src/worker-tracing';

/**
 * Replays recorded histories (test/histories/*.json, written by the workflow tests with
 * RECORD_HISTORIES=1) against today's workflow code. A change that would break running workflows
 * (a different sequence of commands) fails here, before it reaches a worker in production.
 */

function histories(prefix: string) {
  return fs
    .readdirSync(HISTORIES)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => ({
      workflowId: f,
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES, f), 'utf8'))),
    }));
}

async function replay(workflowBundle: WorkflowBundle, prefix: string) {
  const results: { workflowId: string; error?: Error }[] = [];
  // The exporter sink too, as on the workers (its calls are skipped during replay).
  const { sinks } = tracingWorkerOptions(tracing());
  for await (const r of Worker.runReplayHistories(
    // The codec decrypts histories recorded with it and passes the older plaintext ones through.
    { workflowBundle, replayName: prefix, sinks, dataConverter: dataConverterFor(loadConfig()) },
    histories(prefix),
  ))
    results.push({ workflowId: r.workflowId, ...(r.error ? { error: r.error } : {}) });
  return results;
}

// Bundled as the workers bundle them: with the tracing interceptors (spans exported) and without (the
// default): a history recorded by either kind of worker must replay on the other.
const bundle = (workflowsPath: string, tracingModules: string[] = WORKFLOW_TRACING_MODULES) =>
  bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
    workflowInterceptorModules: tracingModules,
    failureConverterPath: FAILURE_CONVERTER_PATH,
  });

describe.each([
  ['traced', WORKFLOW_TRACING_MODULES],
  ['untraced', []],
])('workflow replay, %s workers', (_, tracingModules) => {
  it('replays every recorded payment history without a determinism error', async () => {
    const results = await replay(await bundle(require.resolve('../src/payment'), tracingModules), 'payment-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'payment-3ds-abandoned.json', // 3-D Secure (patch payment-3ds): the window closed, intent cancelled
      'payment-3ds-authenticated.json', // a webhook signal (and its redelivery), the intent re-read: paid
      'payment-3ds-late-success.json', // the charge won the race against the cancel
      'payment-3ds-refused.json', // the customer failed the challenge: the intent is cancelled too
      'payment-3ds-unreadable.json', // Stripe unreadable after a webhook: the cancel decides
      'payment-cancel-after-charge.json', // the customer's cancel (patch payment-cancel): charge won, refunded
      'payment-cancel-before-start.json', // update-with-start: cancelled before anything reached Stripe
      'payment-cancel-during-3ds.json', // cancelled while waiting for 3-D Secure (and the repeat)
      'payment-declined.json', // local activities, confirm as an activity (recorded before 3-D Secure)
      'payment-details-missing.json',
      'payment-encrypted-3ds-authenticated.json', // payloads AES-GCM encrypted (the codec decrypts them)
      'payment-encrypted-cancel-after-charge.json',
      'payment-encrypted-succeeded.json',
      'payment-intent-recorded.json',
      'payment-ledger-failed-replayed.json', // the ledger gate (patch payment-ledger): a settled failure again
      'payment-ledger-intent-reused.json', // an intent the ledger holds is confirmed, none created
      'payment-ledger-settled-replayed.json', // a paid order after retention: nothing charged, event replayed
      'payment-retried.json',
      'payment-succeeded.json',
      'payment-traced.json',
      'payment-v1-declined.json', // activities: started before local activities, must still replay
      'payment-v1-details-missing.json',
      'payment-v1-retried.json',
      'payment-v1-succeeded.json',
      'payment-v1-traced.json',
      'payment-v2-declined.json', // all local, confirm included: started before the confirm activity
      'payment-v2-details-missing.json',
      'payment-v2-retried.json',
      'payment-v2-succeeded.json',
      'payment-v2-traced.json',
      'payment-v3-declined.json', // failures published from the task that found them (before FAILURE_RECORDED)
      'payment-v3-details-missing.json',
      'payment-v4-3ds-authenticated.json', // started before the ledger gate: no claim, must still replay
      'payment-v4-cancel-after-charge.json',
      'payment-v4-cancel-during-3ds.json',
      'payment-v4-declined.json',
      'payment-v4-details-missing.json',
      'payment-v4-succeeded.json',
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded refunds history without a determinism error', async () => {
    // The refunds workflow runs on the payment worker: the same bundle.
    const results = await replay(await bundle(require.resolve('../src/payment'), tracingModules), 'refunds-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'refunds-encrypted-partial-over-dashboard.json', // the same, encrypted
      'refunds-partial-over-dashboard.json', // parts, a refused over-refund, a repeat, a dashboard refund
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded notification history without a determinism error', async () => {
    const notification = await bundle(require.resolve('../src/notification'), tracingModules);
    const results = await replay(notification, 'notification-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'notification-dead-lettered.json', // local activities
      'notification-encrypted-dead-lettered.json', // encrypted payloads and failure messages
      'notification-encrypted-sent.json',
      'notification-retried.json',
      'notification-sent.json',
      'notification-v1-dead-lettered.json', // activities: started before local activities
      'notification-v1-retried.json',
      'notification-v1-sent.json',
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });
});

describe('workflow replay', () => {
  it('catches a non-deterministic change to the workflow', async () => {
    const reordered = await bundle(require.resolve('./fixtures/payment-reordered'));
    const results = await replay(reordered, 'payment-v1-succeeded'); // activities, like the fixture
    expect(results).toHaveLength(1);
    expect(results[0]!.error?.name).toBe('DeterminismViolationError');
  });
});
