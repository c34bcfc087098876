import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { PaymentMethod, User } from './entities';
import { CreateUsers1764000000000 } from './migrations/1764000000000-create-users';
import { Operators1764700000000 } from './migrations/1764700000000-operators';
import { Accounts1765100000000 } from './migrations/1765100000000-accounts';

/**
 * The user service's own database (customers, their cards, and the operators' API keys and audit log).
 * Entities and migrations are registered here, nowhere else.
 */
export function userDataSource(url: string): DataSource {
  return createDataSource(
    url,
    [User, PaymentMethod],
    [CreateUsers1764000000000, Operators1764700000000, Accounts1765100000000],
  );
}
