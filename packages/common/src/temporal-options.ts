import fs from 'node:fs';
import type { Config } from './config';

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
