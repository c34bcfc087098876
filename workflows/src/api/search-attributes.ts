import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes (Keyword) so an operator finds an order's workflows in the Web UI by typing
 * `OrderId = "<id>"`. The dev server is started with them; the services register them on any other
 * cluster (ensureSearchAttributes(connection, namespace, SEARCH_ATTRIBUTE_NAMES)).
 */
export const ORDER_ID = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const USER_ID = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = { OrderId: ORDER_ID, UserId: USER_ID } as const;
export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SEARCH_ATTRIBUTES) as (keyof typeof SEARCH_ATTRIBUTES)[];

/** The attributes of a workflow about one order (and its customer, where known). */
export function orderSearchAttributes(orderId: string, userId?: string) {
  return [
    { key: ORDER_ID, value: orderId },
    ...(userId === undefined ? [] : [{ key: USER_ID, value: userId }]),
  ];
}
