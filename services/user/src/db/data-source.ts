import { createDataSource } from '@paystream/common';
import type { DataSource } from 'typeorm';

/** The user service's own database. Entities and migrations are registered here, nowhere else. */
export function userDataSource(url: string): DataSource {
  return createDataSource(url, [], []);
}
