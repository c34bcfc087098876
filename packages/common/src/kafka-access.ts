import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type AclEntry,
  type Admin,
} from 'kafkajs';
import { CONSUMER_GROUPS, DLQ_READER_GROUP_PREFIX, TOPICS } from './events';

/**
 * Least privilege on Kafka: what each service's principal may write, read and join. Anything not here is
 * refused by the broker's authorizer — the order service cannot write `payment.event`, so it cannot mark
 * its own orders paid. The local stack applies this table (stack/servers/kafka.ts); compose's kafka-init
 * and the Helm chart must grant the same (compose:check compares).
 */
export interface KafkaAccess {
  produces: readonly string[];
  consumes: readonly string[];
  groups: readonly string[];
  /** Groups by prefix: the DLQ reader joins a fresh group on each run. */
  groupPrefixes?: readonly string[];
}

export const KAFKA_ACCESS = {
  order: {
    produces: [TOPICS.orderCreate, TOPICS.orderEvent, TOPICS.parked],
    consumes: [TOPICS.paymentEvent],
    groups: [CONSUMER_GROUPS.order],
  },
  payment: {
    produces: [TOPICS.paymentEvent, TOPICS.stripeEvents, TOPICS.parked],
    consumes: [TOPICS.orderCreate],
    groups: [CONSUMER_GROUPS.payment],
  },
  notification: {
    produces: [TOPICS.notificationDlq, TOPICS.parked],
    // The DLQ CLI (list, replay) runs as the notification service.
    consumes: [TOPICS.paymentEvent, TOPICS.orderEvent, TOPICS.notificationDlq],
    groups: [CONSUMER_GROUPS.notification, CONSUMER_GROUPS.webhooks],
    groupPrefixes: [DLQ_READER_GROUP_PREFIX],
  },
} as const satisfies Record<string, KafkaAccess>;

export type KafkaPrincipal = keyof typeof KAFKA_ACCESS;

/** The ACL entries of the table: WRITE/READ imply DESCRIBE, which metadata, offsets and lag need. */
export function kafkaAclEntries(access: Record<string, KafkaAccess> = KAFKA_ACCESS): AclEntry[] {
  const entry = (
    principal: string,
    resourceType: AclResourceTypes,
    resourceName: string,
    operation: AclOperationTypes,
    resourcePatternType = ResourcePatternTypes.LITERAL,
  ): AclEntry => ({
    principal: `User:${principal}`,
    host: '*',
    resourceType,
    resourceName,
    resourcePatternType,
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  return Object.entries(access).flatMap(([principal, a]) => [
    ...a.produces.map((t) => entry(principal, AclResourceTypes.TOPIC, t, AclOperationTypes.WRITE)),
    ...a.consumes.map((t) => entry(principal, AclResourceTypes.TOPIC, t, AclOperationTypes.READ)),
    ...a.groups.map((g) => entry(principal, AclResourceTypes.GROUP, g, AclOperationTypes.READ)),
    ...(a.groupPrefixes ?? []).map((g) =>
      entry(principal, AclResourceTypes.GROUP, g, AclOperationTypes.READ, ResourcePatternTypes.PREFIXED),
    ),
  ]);
}

/** Grants the table (creating an ACL that exists is a no-op on the broker). */
export async function ensureKafkaAcls(admin: Admin): Promise<void> {
  await admin.createAcls({ acl: kafkaAclEntries() });
}
