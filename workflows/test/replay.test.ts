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
 * (a different sequence of commands) fails here, before it reaches a worker in production. The set
 * starts at the baseline release (docs/decisions/0003-workflow-baseline.md); histories of each later
 * patch are added beside it and kept while runs recorded with them may still be open.
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
      'payment-3ds-abandoned.json', // 3-D Secure: the window closed, the intent cancelled
      'payment-3ds-authenticated.json', // a webhook signal (and its redelivery), the intent re-read: paid
      'payment-3ds-late-success.json', // the charge won the race against the cancel
      'payment-3ds-refused.json', // the customer failed the challenge: the intent is cancelled too
      'payment-3ds-unreadable.json', // Stripe unreadable after a webhook: the cancel decides
      'payment-cancel-after-charge.json', // the customer's cancel: the charge won, refunded in full
      'payment-cancel-before-start.json', // update-with-start: cancelled before anything reached Stripe
      'payment-cancel-during-3ds.json', // cancelled while waiting for 3-D Secure (and the repeat)
      'payment-capture-3ds-dashboard.json', // patch payment-capture: authorized after 3-D Secure, captured in Stripe
      'payment-capture-automatic.json', // a capture of an order charged at once, refused by the validator
      'payment-capture-by-policy.json', // nobody captured: warned, then captured in full by policy
      'payment-capture-lapsed.json', // nobody captured: warned, then voided
      'payment-capture-operator-void.json', // the merchant's void; a capture asked meanwhile refused
      'payment-capture-partial.json', // a capture of more refused, then part captured, the rest released
      'payment-capture-twice.json', // a second capture refused while the first runs; the first's retry answered
      'payment-capture-voided.json', // the customer's cancel voids the authorization
      'payment-declined.json', // a failure in history (a 1 ms timer) before it is published
      'payment-details-missing.json',
      'payment-intent-recorded.json',
      'payment-ledger-failed-replayed.json', // the ledger gate: a settled failure published again
      'payment-ledger-intent-reused.json', // an intent the ledger holds is confirmed, none created
      'payment-ledger-settled-replayed.json', // a paid order after retention: nothing charged, event replayed
      'payment-retried.json',
      'payment-succeeded.json',
      'payment-traced.json',
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded refunds history without a determinism error', async () => {
    // The refunds workflow runs on the payment worker: the same bundle.
    const results = await replay(await bundle(require.resolve('../src/payment'), tracingModules), 'refunds-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'refunds-partial-over-dashboard.json', // parts, a refused over-refund, a repeat, a dashboard refund
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded dispute history without a determinism error', async () => {
    // The dispute workflow runs on the payment worker: the same bundle.
    const results = await replay(await bundle(require.resolve('../src/payment'), tracingModules), 'dispute-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'dispute-lost-at-once.json', // decided before it was first heard of: opened and lost at once
      'dispute-reminded-won.json', // opened, the evidence reminder (a durable timer), won
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded notification history without a determinism error', async () => {
    const notification = await bundle(require.resolve('../src/notification'), tracingModules);
    const results = await replay(notification, 'notification-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'notification-dead-lettered.json',
      'notification-retried.json',
      'notification-sent.json',
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded account email history without a determinism error', async () => {
    const notification = await bundle(require.resolve('../src/notification'), tracingModules);
    const results = await replay(notification, 'account-email-');
    expect(results.map((r) => r.workflowId).sort()).toEqual(['account-email-sent.json']);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });

  it('replays every recorded webhook delivery history without a determinism error', async () => {
    // The webhook delivery workflow runs on the notification worker: its bundle.
    const notification = await bundle(require.resolve('../src/notification'), tracingModules);
    const results = await replay(notification, 'webhooks-');
    expect(results.map((r) => r.workflowId).sort()).toEqual([
      'webhooks-delivered.json', // two events in order, the first through two refusals
      'webhooks-skipped.json', // the endpoint disabled while its delivery was retried
    ]);
    for (const r of results)
      expect({ id: r.workflowId, error: r.error?.message }).toEqual({ id: r.workflowId, error: undefined });
  });
});

describe('workflow replay', () => {
  it('catches a non-deterministic change to the workflow', async () => {
    const reordered = await bundle(require.resolve('./fixtures/payment-reordered'));
    const results = await replay(reordered, 'payment-succeeded');
    expect(results).toHaveLength(1);
    expect(results[0]!.error?.name).toBe('DeterminismViolationError');
  });
});
