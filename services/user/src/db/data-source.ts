import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { PaymentMethod, User } from './entities';
import { CreateUsers1764000000000 } from './migrations/1764000000000-create-users';

/** The user service's own database. Entities and migrations are registered here, nowhere else. */
export function userDataSource(url: string): DataSource {
  return createDataSource(url, [User, PaymentMethod], [CreateUsers1764000000000]);
}
