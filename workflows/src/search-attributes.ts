import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes (Keyword) so an operator finds an order's workflows in the Web UI by typing
 * `OrderId = "<id>"`. Registered on the dev server at start and by the services on any other cluster.
 */
export const ORDER_ID = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const USER_ID = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = { OrderId: ORDER_ID, UserId: USER_ID } as const;
