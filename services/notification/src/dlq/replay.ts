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
  const outcomes: ReplayOutcome[] = [];
  for (const record of records) {
    const original = paymentEvent.safeParse(record.entry?.original);
    const orderId = original.success ? original.data.orderId : record.key;
    if (!select.all && orderId !== select.orderId) continue;
    if (!original.success) {
      outcomes.push({
        offset: record.offset,
        orderId,
        eventId: null,
        outcome: 'skipped: not a payment.event',
      });
      continue;
    }
    const started = await startNotification(client, original.data, retry, { taskQueue, replay: true });
    outcomes.push({
      offset: record.offset,
      orderId,
      eventId: original.data.eventId,
      outcome: started ? 'replayed' : 'skipped: already sent or running',
    });
  }
  return outcomes;
}
