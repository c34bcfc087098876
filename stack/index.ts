/**
 * The local stack launcher: the real servers, without Docker: PostgreSQL, Kafka 3.9 (KRaft), the Temporal
 * dev server with its Web UI, stripe-mock, localstripe and Mailpit. Each part is fetched/built once into the
 * git-ignored cache (.cache/ or $PAYSTREAM_CACHE_DIR), keyed on its pinned version, then started, waited for
 * until it really answers, and recorded in a pid file so `down` stops exactly what `up` started.
 *
 *   tsx stack/cli.ts up | down | status [server...]
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '@paystream/common/config';
import {
  alive,
  cachePaths,
  createAptInstall,
  goBinary,
  goSourceBinary,
  log,
  pipTool,
  portOpen,
  runLogged,
  readPid,
  stopDaemon,
  timed,
  withInstallLock,
  type CachePaths,
} from './process';
import { kafkaServer } from './servers/kafka';
import { localstripeServer } from './servers/localstripe';
import { mailpitServer } from './servers/mailpit';
import { postgresCaPath, postgresServer } from './servers/postgres';
import { redisServer } from './servers/redis';
import type { LocalServer, ServerDeps } from './servers/server';
import { stripeMockServer } from './servers/stripe-mock';
import { temporalServer } from './servers/temporal';
import { VERSIONS } from './versions';

export { VERSIONS };
export type { LocalServer };

/** In start order (`down` stops in reverse). */
const SERVERS: ((deps: ServerDeps) => LocalServer)[] = [
  postgresServer,
  kafkaServer,
  temporalServer,
  stripeMockServer,
  localstripeServer,
  mailpitServer,
  redisServer,
];

export interface Stack {
  readonly cacheDir: string;
  readonly servers: readonly LocalServer[];
  /** Fetches and builds everything a test run needs (servers and test tools), starting nothing. */
  installAll(): Promise<void>;
  /** Installs what is missing and starts what does not answer yet; resolves to the names it started. */
  up(names?: string[]): Promise<string[]>;
  /** Stops the named servers (all by default) that this launcher started; others are left alone. */
  down(names?: string[]): Promise<void>;
  /** Prints one line per server; true when all of them answer. */
  status(): Promise<boolean>;
  temporalBinaryPath(): string;
  mailpitBinaryPath(): string;
}

/** .cache/ at the repository root, or $PAYSTREAM_CACHE_DIR. */
export function defaultCacheDir(): string {
  return path.resolve(process.env.PAYSTREAM_CACHE_DIR ?? path.join(__dirname, '..', '.cache'));
}

/** The built Temporal CLI, for tests that run a dev server of their own. */
export function temporalBinaryPath(cacheDir = defaultCacheDir()): string {
  return path.join(cachePaths(cacheDir).bin, `temporal-${VERSIONS.temporalCli}`);
}

/** The CA of the local Postgres server's certificate (for `sslmode=verify-full&sslrootcert=…`). */
export function postgresCaFile(cacheDir = defaultCacheDir()): string {
  return postgresCaPath(cachePaths(cacheDir).cache);
}

/** The built Mailpit, for tests that run a second SMTP server they can stop and start. */
export function mailpitBinaryPath(cacheDir = defaultCacheDir()): string {
  const bin = cachePaths(cacheDir).bin;
  const withUi = path.join(bin, `mailpit-ui-${VERSIONS.mailpit}`);
  return fs.existsSync(withUi) ? withUi : path.join(bin, `mailpit-${VERSIONS.mailpit}`);
}

/** The Helm CLI, built from the Go module proxy at its pinned version on first use (CI renders the chart). */
export function helmBinary(cacheDir = defaultCacheDir()): Promise<string> {
  const paths = cachePaths(cacheDir);
  return withInstallLock(paths, () => helmBinaryIn(paths));
}
const helmBinaryIn = (paths: CachePaths) =>
  goBinary(paths, 'helm', 'helm.sh/helm/v3/cmd/helm', VERSIONS.helm);

/**
 * nginx (Debian's package), for the test that puts a real reverse proxy in front of the gateway as the chart's
 * ingress controller is: the client address it appends to X-Forwarded-For is what the gateway must find.
 */
const NGINX = '/usr/sbin/nginx';
export function nginxBinary(): string {
  if (!fs.existsSync(NGINX)) createAptInstall()('nginx');
  return NGINX;
}

/**
 * compose-go (the loader `docker compose` itself runs) around docker-compose.yml: scripts/composeload, built
 * from the Go module proxy on first use. There is no Docker engine here; this is the next best proof.
 */
export function composeLoaderBinary(cacheDir = defaultCacheDir()): Promise<string> {
  return goSourceBinary(
    cachePaths(cacheDir),
    'composeload',
    path.join(__dirname, '..', 'scripts', 'composeload'),
  );
}

/** Schemathesis from PyPI at its pinned version, in a venv of its own (CI fuzzes the public API with it). */
export function schemathesisBinary(cacheDir = defaultCacheDir()): Promise<string> {
  const paths = cachePaths(cacheDir);
  return withInstallLock(paths, () => schemathesisIn(paths));
}
/**
 * A Python with the Standard Webhooks reference library (PyPI `standardwebhooks`), in a venv of its own: CI's
 * merchant receiver (test/support/webhook_receiver.py) verifies Paystream's signatures with it.
 */
export function webhookVerifierPython(cacheDir = defaultCacheDir()): Promise<string> {
  const paths = cachePaths(cacheDir);
  return withInstallLock(paths, () => webhookVerifierIn(paths));
}
async function webhookVerifierIn(paths: CachePaths): Promise<string> {
  const venv = path.join(paths.cache, `standardwebhooks-${VERSIONS.standardwebhooks}`);
  const python = path.join(venv, 'bin', 'python');
  const done = path.join(venv, '.complete');
  if (fs.existsSync(done)) return python;
  await timed(`pip install standardwebhooks ${VERSIONS.standardwebhooks} (first run only)`, async () => {
    await runLogged(paths.logs, 'python3', ['-m', 'venv', venv], 'venv-standardwebhooks.log');
    await runLogged(
      paths.logs,
      path.join(venv, 'bin', 'pip'),
      ['install', '-q', `standardwebhooks==${VERSIONS.standardwebhooks}`],
      'pip-standardwebhooks.log',
    );
  });
  fs.writeFileSync(done, '');
  return python;
}

async function schemathesisIn(paths: CachePaths): Promise<string> {
  const venv = await pipTool(paths, createAptInstall(), 'schemathesis', VERSIONS.schemathesis);
  return path.join(venv, 'bin', 'schemathesis');
}

/** Debian's headless Chromium (installed on first use), for the browser test of the demo page. */
export function chromiumBinary(): string {
  const installed = () =>
    ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((c) => fs.existsSync(c));
  if (!installed()) createAptInstall()('chromium-headless-shell');
  const found = installed();
  if (!found) throw new Error('apt-get install chromium-headless-shell did not install a browser');
  return found;
}

export function createStack(cfg: Config = loadConfig(), cacheDir = defaultCacheDir()): Stack {
  const paths = cachePaths(cacheDir);
  const deps: ServerDeps = { cfg, paths, aptInstall: createAptInstall() };
  const servers = SERVERS.map((create) => create(deps));
  const all = servers.map((s) => s.name);

  function server(name: string): LocalServer {
    const s = servers.find((x) => x.name === name);
    if (!s) throw new Error(`unknown component ${name}`);
    return s;
  }

  /** Starts one server unless it already answers; true when this call started it. */
  async function bringUp(s: LocalServer, installed: string): Promise<boolean> {
    if (await s.ready().catch(() => false)) {
      const ours = readPid(paths.run, s.name);
      log(
        `${s.name} already answering${ours && alive(ours) ? ` (pid ${ours})` : ' (not started by this script; left alone)'}`,
      );
      return false;
    }
    const busy = (await Promise.all(s.ports.map((p) => portOpen(p)))).some(Boolean);
    if (busy && !readPid(paths.run, s.name)) {
      throw new Error(
        `${s.name}: port ${s.ports.join('/')} is taken by something that is not ${s.name}; free it or set its *_PORT`,
      );
    }
    await stopDaemon(paths.run, s.name); // a stale or half-started earlier run
    await timed(`start ${s.name}`, () => s.start(installed));
    return true;
  }

  function install(selected: LocalServer[]): Promise<string[]> {
    return withInstallLock(paths, () =>
      timed('install (cached after the first run)', () => Promise.all(selected.map((s) => s.install()))),
    );
  }

  /**
   * Everything a test run fetches or builds, without starting anything: the servers, then the tools the
   * tests use (Helm, schemathesis). `./paystream test` runs it in the background while it builds and lints.
   */
  async function installAll(): Promise<void> {
    await install(servers);
    await withInstallLock(paths, async () => {
      await helmBinaryIn(paths);
      await schemathesisIn(paths);
      await webhookVerifierIn(paths);
      nginxBinary();
    });
  }

  async function up(names: string[] = all): Promise<string[]> {
    const started: string[] = [];
    const selected = names.map(server);
    fs.mkdirSync(cacheDir, { recursive: true });
    // Installs run side by side (Go builds, Maven and pip are mostly waiting on the network).
    const installed = await install(selected);
    await Promise.all(
      selected.map(async (s, i) => {
        if (await bringUp(s, installed[i]!)) started.push(s.name);
      }),
    );
    // Databases and topics, also on servers that were already running.
    await Promise.all(selected.map(async (s) => s.provision?.()));
    for (const s of selected) log(s.describe());
    const show = (p: string) =>
      path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p);
    log(`logs and pids under ${show(paths.logs)}, ${show(paths.run)}`);
    return started;
  }

  async function down(names: string[] = all): Promise<void> {
    for (const s of names.map(server).reverse()) {
      if (await s.stop()) log(`stopped ${s.name}`);
    }
  }

  async function status(): Promise<boolean> {
    let allUp = true;
    for (const s of servers) {
      const ok = await s.ready().catch(() => false);
      const pid = readPid(paths.run, s.name);
      allUp &&= ok;
      log(`${ok ? 'up  ' : 'down'} ${s.describe()}${pid && alive(pid) ? ` [pid ${pid}]` : ''}`);
    }
    return allUp;
  }

  return {
    cacheDir,
    servers,
    installAll,
    up,
    down,
    status,
    temporalBinaryPath: () => temporalBinaryPath(cacheDir),
    mailpitBinaryPath: () => mailpitBinaryPath(cacheDir),
  };
}

/** `up` of the default stack (configuration from the environment, default cache). */
export function up(names?: string[]): Promise<string[]> {
  return createStack().up(names);
}

/** `down` of the default stack (configuration from the environment, default cache). */
export function down(names?: string[]): Promise<void> {
  return createStack().down(names);
}
