import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { CreateLedger1764400000000 } from './migrations/1764400000000-create-ledger';

/** The payment service's own database: the ledger (payments, movements, drift). Raw SQL, no entities. */
export function paymentDataSource(url: string): DataSource {
  return createDataSource(url, [], [CreateLedger1764400000000]);
}
