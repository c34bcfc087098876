/**
 * The Temporal dev server's own options (`temporal server start-dev`), as the local stack runs it.
 * The launcher in stack/ builds the binary and starts it with these arguments.
 */

/** File name of the dev server's SQLite database, kept in the cache so workflow histories survive a restart. */
export const DEV_SERVER_DB_FILENAME = 'temporal.db';

/** Operators find a payment in the Web UI by typing its order id. */
export const SEARCH_ATTRIBUTES = { OrderId: 'Keyword', UserId: 'Keyword' } as const;

export interface DevServerOptions {
  /** host:port of the frontend (TEMPORAL_ADDRESS). */
  address: string;
  uiPort: number;
  namespace: string;
  /** Path of the SQLite database; see DEV_SERVER_DB_FILENAME. */
  dbFile: string;
  /** The codec server the Web UI asks to decrypt payloads (temporal/codec-server.ts). */
  codecEndpoint: string;
}

/** The argument list of `temporal server start-dev` for the local stack. */
export function devServerArgs({
  address,
  uiPort,
  namespace,
  dbFile,
  codecEndpoint,
}: DevServerOptions): string[] {
  const [host, port] = address.split(':');
  return [
    'server',
    'start-dev',
    '--ip',
    host ?? '127.0.0.1',
    '--port',
    port ?? '7233',
    '--ui-port',
    String(uiPort),
    '--ui-codec-endpoint',
    codecEndpoint, // payloads are encrypted: the UI decodes them through the codec server
    '--db-filename',
    dbFile, // workflow histories survive a restart of the dev server
    // WAL with NORMAL sync survives a crash of the server process (not of the machine) and spares an
    // fsync per write: the default journal made the dev server the bottleneck under load.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    // Two server defaults that cost CPU per order and buy nothing on one node: refreshing the search-attribute
    // cache on every read, and sending activities through matching when the worker that asked can take them.
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // A deleted run (what retention does; the ledger tests stand in for it) is only removed once the
    // transfer queue has checkpointed past its close: every 30 s by default, every second here.
    '--dynamic-config-value',
    'history.transferProcessorUpdateAckInterval="1s"',
    '--namespace',
    namespace,
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    '--log-level',
    'warn',
  ];
}
