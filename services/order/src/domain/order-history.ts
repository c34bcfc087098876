import { problems } from '@paystream/common/problem';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Order } from '../db/entities';
import type { OrderStatus } from './order-status';

/**
 * Orders (a customer's own, or an operator's search), newest first, by keyset pagination on (created_at, id): a page starts strictly
 * after the last row of the previous one, so orders created while a client pages never shift a page
 * (no duplicates, no gaps), and each page is one index range scan however deep it is.
 * The cursor is opaque to clients: base64url of the last row's exact timestamp (microseconds) and id.
 */
const cursorSchema = z.strictObject({
  t: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
  i: z.uuid(),
});
type Cursor = z.infer<typeof cursorSchema>;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch {
    throw problems.validation([{ field: 'cursor', message: 'is not a cursor this API returned' }]);
  }
}

// Microseconds, in UTC: a JavaScript Date would round them away and break the keyset order.
const EXACT_CREATED_AT = `to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Which orders: one customer's (their history), or any the operator's search names. */
export interface OrderFilter {
  userId?: string;
  orderId?: string;
  status?: OrderStatus;
  /** Created at or after / before. */
  from?: Date;
  to?: Date;
}

export async function listOrders(
  db: DataSource,
  filter: OrderFilter,
  query: { limit: number; cursor?: string },
): Promise<{ orders: Order[]; nextCursor: string | null }> {
  const qb = db
    .getRepository(Order)
    .createQueryBuilder('o')
    .addSelect(EXACT_CREATED_AT, 'exact_created_at')
    .where('true')
    .orderBy('o.created_at', 'DESC')
    .addOrderBy('o.id', 'DESC')
    .limit(query.limit + 1);
  if (filter.userId) qb.andWhere('o.user_id = :userId', { userId: filter.userId });
  if (filter.orderId) qb.andWhere('o.id = :orderId', { orderId: filter.orderId });
  if (filter.status) qb.andWhere('o.status = :status', { status: filter.status });
  if (filter.from) qb.andWhere('o.created_at >= :from', { from: filter.from });
  if (filter.to) qb.andWhere('o.created_at < :to', { to: filter.to });
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    qb.andWhere('(o.created_at, o.id) < (:t::timestamptz, :i::uuid)', after);
  }
  const { entities, raw } = await qb.getRawAndEntities<{ exact_created_at: string }>();
  if (entities.length <= query.limit) return { orders: entities, nextCursor: null };
  const last = query.limit - 1;
  return {
    orders: entities.slice(0, query.limit),
    nextCursor: encodeCursor({ t: raw[last]!.exact_created_at, i: entities[last]!.id }),
  };
}
