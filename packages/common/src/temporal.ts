import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { tracing } from './tracing';
import { temporal } from '@temporalio/proto';

export const TASK_QUEUES = { payments: 'payments', notifications: 'notifications' } as const;

/** Keyword search attributes the workflows set (see workflows/src/search-attributes.ts; exported by @paystream/workflows). */
export const CUSTOM_SEARCH_ATTRIBUTES = ['OrderId', 'UserId'] as const;

export async function connectTemporal(address: string): Promise<Connection> {
  return Connection.connect({ address, connectTimeout: 3000 });
}

/**
 * A workflow client that puts the active trace context into every workflow it starts, and encrypts and
 * decrypts payloads with `dataConverter` (dataConverterFor(cfg): the same as the workers').
 */
export function createWorkflowClient(
  connection: Connection,
  namespace: string,
  dataConverter: DataConverter,
): Client {
  tracing(); // the interceptor takes the global tracer when constructed: register the provider first
  return new Client({
    connection,
    namespace,
    dataConverter,
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
}

/** Cheap round trip that proves the frontend service answers. */
export async function temporalHealth(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.describeNamespace({ namespace });
}

/**
 * Registers OrderId/UserId where they are missing, so the Web UI can search by order id on any
 * cluster (the local dev server is started with them already; docker compose's is not).
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((name) => !customAttributes?.[name]);
  if (!missing.length) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (err) {
    // Another replica registered them first.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}
