/** The Temporal dev server with its Web UI, from the Temporal CLI built into the cache. */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DEV_SERVER_DB_FILENAME, devServerArgs } from '../../temporal/dev-server';
import { goBinary, httpOk, portOpen, startDaemon, stopDaemon, waitFor } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export function temporalServer({ cfg, paths }: ServerDeps): LocalServer {
  const port = Number(cfg.TEMPORAL_ADDRESS.split(':')[1] ?? 7233);

  async function answers(): Promise<boolean> {
    if (!(await portOpen(port))) return false;
    const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS, connectTimeout: 1000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: cfg.TEMPORAL_NAMESPACE });
      return await httpOk(`http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}/`);
    } finally {
      await connection.close();
    }
  }

  return {
    name: 'temporal',
    ports: [port, cfg.TEMPORAL_UI_PORT],
    /** Resolves to the Temporal CLI binary. */
    install: () => goBinary(paths, 'temporal', TEMPORAL_CLI_MODULE, VERSIONS.temporalCli),
    ready: answers,
    async start(binary) {
      const dir = path.join(paths.cache, 'temporal');
      fs.mkdirSync(dir, { recursive: true });
      const args = devServerArgs({
        address: cfg.TEMPORAL_ADDRESS,
        uiPort: cfg.TEMPORAL_UI_PORT,
        namespace: cfg.TEMPORAL_NAMESPACE,
        dbFile: path.join(dir, DEV_SERVER_DB_FILENAME),
        // `./paystream start` runs the codec server there (`npm run codec-server` by hand).
        codecEndpoint: `http://127.0.0.1:${cfg.CODEC_SERVER_PORT}`,
      });
      const logFile = startDaemon(paths, 'temporal', binary, args);
      await waitFor('temporal', answers, 60_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'temporal'),
    describe: () =>
      `temporal     ${cfg.TEMPORAL_ADDRESS} (namespace ${cfg.TEMPORAL_NAMESPACE}), Web UI http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`,
  };
}
