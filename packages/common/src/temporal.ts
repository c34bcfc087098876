import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { tracing } from './tracing';
import { temporal } from '@temporalio/proto';
import { dataConverterFor } from './payload-codec';
import type { ServiceRuntime } from './runtime';
import { temporalConnectionOptions, type TemporalConnectionOptions } from './temporal-options';

export async function connectTemporal(options: TemporalConnectionOptions): Promise<Connection> {
  return Connection.connect({ ...options, connectTimeout: 3000 });
}

/**
 * A workflow client that puts the active trace context into every workflow it starts, and encrypts and
 * decrypts payloads with `dataConverter` (dataConverterFor(cfg): the same as the workers'). On a worker's
 * NativeConnection it can start workflows eagerly on that worker (`requestEagerStart`).
 */
export function createWorkflowClient(
  connection: ConnectionLike,
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
 * Registers the workflows' Keyword search attributes where they are missing, so the Web UI can search by
 * order id on any cluster (the local dev server is started with them already; docker compose's is not).
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  names: readonly string[],
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = names.filter((name) => !customAttributes?.[name]);
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

/** A Temporal connection and workflow client; the workflows' search attributes are registered. */
export async function temporalParts(
  svc: ServiceRuntime,
  searchAttributes: readonly string[],
): Promise<{ connection: Connection; client: Client; dataConverter: DataConverter }> {
  const { TEMPORAL_NAMESPACE } = svc.cfg;
  const connection = await svc.part(
    'temporal client',
    () => connectTemporal(temporalConnectionOptions(svc.cfg)),
    (c) => c.close(),
  );
  await ensureSearchAttributes(connection, TEMPORAL_NAMESPACE, searchAttributes);
  const dataConverter = dataConverterFor(svc.cfg);
  return {
    connection,
    client: createWorkflowClient(connection, TEMPORAL_NAMESPACE, dataConverter),
    dataConverter,
  };
}
