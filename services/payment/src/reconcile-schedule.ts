import { type Config } from '@paystream/common/config';
import { type Logger } from '@paystream/common/logger';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { PAYMENTS_TASK_QUEUE, RECONCILE_SCHEDULES, reconciliationScheduleAction } from '@paystream/workflows';

/** The two Schedules' definitions from configuration: every interval, and once a day over a longer window. */
export function reconcileSchedules(cfg: Config, taskQueue: string = PAYMENTS_TASK_QUEUE): ScheduleOptions[] {
  const staleSeconds = cfg.RECONCILE_STALE_SECONDS;
  return [
    {
      scheduleId: RECONCILE_SCHEDULES.interval,
      spec: { intervals: [{ every: `${cfg.RECONCILE_INTERVAL_SECONDS}s` }] },
      action: reconciliationScheduleAction(
        { pass: 'interval', windowSeconds: cfg.RECONCILE_WINDOW_SECONDS, staleSeconds },
        taskQueue,
      ),
      // A pass still running when the next is due: the next is skipped, never run beside it.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    },
    {
      scheduleId: RECONCILE_SCHEDULES.daily,
      spec: { calendars: [{ hour: 3, minute: 17 }] },
      action: reconciliationScheduleAction(
        { pass: 'daily', windowSeconds: cfg.RECONCILE_DAILY_WINDOW_SECONDS, staleSeconds },
        taskQueue,
      ),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
    },
  ];
}

/**
 * Creates the Schedules, or brings existing ones to this configuration (a redeploy with a new interval).
 * Every replica does it at start; the last write wins and they all write the same.
 */
export async function ensureReconcileSchedules(client: Client, cfg: Config, logger?: Logger): Promise<void> {
  for (const options of reconcileSchedules(cfg)) {
    try {
      await client.schedule.create(options);
      logger?.info({ scheduleId: options.scheduleId }, 'reconciliation schedule created');
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
      }));
    }
  }
}
