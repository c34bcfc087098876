import { paymentEvent } from '@paystream/common/events';
import type { RetryBudget } from '@paystream/workflows';
import type { Client } from '@temporalio/client';
import { startNotification } from '../start-notification';
import type { DlqRecord } from './read';

export interface ReplayOutcome {
  offset: string;
  orderId: string | null;
  eventId: string | null;
  outcome: 'replayed' | 'skipped: already sent or running' | 'skipped: not a payment.event';
}

/**
 * Re-runs the notification of each chosen DLQ entry under its original workflow id (`notify-<eventId>`).
 * Temporal refuses the start when that id's last run completed (email sent) or is still running, so
 * replaying the same entry twice never sends a second email.
 */
export async function replayDlq(
  client: Client,
  records: DlqRecord[],
  retry: RetryBudget,
  select: { orderId?: string; all?: boolean },
  taskQueue?: string,
): Promise<ReplayOutcome[]> {
  // One replay per event: an event whose replays failed again is in the DLQ once per failure, and its
  // latest entry stands for it (replaying it more than once in one request could only be refused).
  const latest = new Map<string, DlqRecord>();
  for (const record of records) {
    const original = paymentEvent.safeParse(record.entry?.original);
    if (!select.all && (original.success ? original.data.orderId : record.key) !== select.orderId) continue;
    latest.set(
      original.success ? original.data.eventId : `offset:${record.partition}:${record.offset}`,
      record,
    );
  }
  const chosen = [...latest.values()];
  const replay = async (record: DlqRecord): Promise<ReplayOutcome> => {
    const original = paymentEvent.safeParse(record.entry?.original);
    if (!original.success)
      return {
        offset: record.offset,
        orderId: record.key,
        eventId: null,
        outcome: 'skipped: not a payment.event',
      };
    const started = await startNotification(client, original.data, retry, { taskQueue, replay: true });
    return {
      offset: record.offset,
      orderId: original.data.orderId,
      eventId: original.data.eventId,
      outcome: started ? 'replayed' : 'skipped: already sent or running',
    };
  };
  // A few starts at a time: a DLQ of thousands after a long SMTP outage replays in seconds, not minutes (one
  // start is a round trip to Temporal), without a burst of thousands of requests at once.
  const outcomes: ReplayOutcome[] = [];
  for (let i = 0; i < chosen.length; i += REPLAY_CONCURRENCY)
    outcomes.push(...(await Promise.all(chosen.slice(i, i + REPLAY_CONCURRENCY).map(replay))));
  return outcomes;
}

const REPLAY_CONCURRENCY = 16;
