import { createDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { Order, OutboxMessage } from './entities';
import { CreateOrders1764000000000 } from './migrations/1764000000000-create-orders';
import { OutboxHeaders1764100000000 } from './migrations/1764100000000-outbox-headers';
import { OrderLifecycle1764200000000 } from './migrations/1764200000000-order-lifecycle';
import { RefusedPaymentEvents1764300000000 } from './migrations/1764300000000-refused-payment-events';
import { CaptureAndDisputes1764500000000 } from './migrations/1764500000000-capture-and-disputes';
import { OrderEvents1764800000000 } from './migrations/1764800000000-order-events';

/** The order service's own database (orders, outbox, processed and refused events). */
export function orderDataSource(url: string): DataSource {
  return createDataSource(
    url,
    [Order, OutboxMessage],
    [
      CreateOrders1764000000000,
      OutboxHeaders1764100000000,
      OrderLifecycle1764200000000,
      RefusedPaymentEvents1764300000000,
      CaptureAndDisputes1764500000000,
      OrderEvents1764800000000,
    ],
  );
}
