import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { Config } from './config';
import type { DataConverter } from '@temporalio/common';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { tracing } from './tracing';
import { temporal } from '@temporalio/proto';

export const TASK_QUEUES = { payments: 'payments', notifications: 'notifications' } as const;

/** Keyword search attributes the workflows set (see workflows/src/search-attributes.ts; exported by @paystream/workflows). */
export const CUSTOM_SEARCH_ATTRIBUTES = ['OrderId', 'UserId'] as const;

/** How to reach the Temporal frontend: the same for clients (Connection) and workers (NativeConnection). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CA_FILE'
  | 'TEMPORAL_TLS_CERT_FILE'
  | 'TEMPORAL_TLS_KEY_FILE'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/** The connection options of the configuration: TLS, mTLS, API key (files are read once, at start). */
export function temporalConnectionOptions(cfg: TemporalSettings): TemporalConnectionOptions {
  const { TEMPORAL_TLS_CERT_FILE: certFile, TEMPORAL_TLS_KEY_FILE: keyFile } = cfg;
  if (Boolean(certFile) !== Boolean(keyFile))
    throw new Error('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together (mTLS needs both)');
  const tls =
    cfg.TEMPORAL_TLS || cfg.TEMPORAL_API_KEY || cfg.TEMPORAL_TLS_CA_FILE || certFile
      ? {
          ...(cfg.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: cfg.TEMPORAL_TLS_SERVER_NAME } : {}),
          ...(cfg.TEMPORAL_TLS_CA_FILE
            ? { serverRootCACertificate: fs.readFileSync(cfg.TEMPORAL_TLS_CA_FILE) }
            : {}),
          ...(certFile && keyFile
            ? { clientCertPair: { crt: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) } }
            : {}),
        }
      : undefined;
  return {
    address: cfg.TEMPORAL_ADDRESS,
    ...(tls ? { tls } : {}),
    ...(cfg.TEMPORAL_API_KEY ? { apiKey: cfg.TEMPORAL_API_KEY } : {}),
  };
}

export async function connectTemporal(options: TemporalConnectionOptions): Promise<Connection> {
  return Connection.connect({ ...options, connectTimeout: 3000 });
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
