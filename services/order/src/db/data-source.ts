import { createDataSource } from '@paystream/common';
import type { DataSource } from 'typeorm';

/** The order service's own database (orders, outbox, processed events). */
export function orderDataSource(url: string): DataSource {
  return createDataSource(url, [], []);
}
