import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { Webhooks1764900000000 } from './migrations/1764900000000-webhooks';

/** The notification service's own database: the merchants' webhook endpoints and deliveries. Raw SQL, no entities. */
export function notificationDataSource(url: string): DataSource {
  return createDataSource(url, [], [Webhooks1764900000000]);
}
