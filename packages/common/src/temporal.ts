import { Connection } from '@temporalio/client';

export const TASK_QUEUES = { payments: 'payments', notifications: 'notifications' } as const;

export async function connectTemporal(address: string): Promise<Connection> {
  return Connection.connect({ address, connectTimeout: 3000 });
}

/** Cheap round trip that proves the frontend service answers. */
export async function temporalHealth(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.describeNamespace({ namespace });
}
