import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { CreateLedger1764400000000 } from './migrations/1764400000000-create-ledger';
import { CaptureAndDisputes1764600000000 } from './migrations/1764600000000-capture-and-disputes';

/** The payment service's own database: the ledger (payments, movements, disputes, drift). Raw SQL, no entities. */
export function paymentDataSource(url: string): DataSource {
  return createDataSource(url, [], [CreateLedger1764400000000, CaptureAndDisputes1764600000000]);
}
