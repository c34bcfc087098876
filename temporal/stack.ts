/**
 * The real local stack, without Docker: PostgreSQL, Kafka 3.9 (KRaft), the Temporal dev server with its
 * Web UI, stripe-mock, localstripe and Mailpit. Each part is fetched/built once into the git-ignored
 * cache (.cache/ or $PAYSTREAM_CACHE_DIR), keyed on its pinned version, then started, waited for until it
 * really answers, and recorded in a pid file so `down` stops exactly what `up` started.
 *
 *   tsx temporal/stack.ts up | down | status
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { ALL_TOPICS, createKafka, ensureTopics, loadConfig } from '@paystream/common';
import { Connection } from '@temporalio/client';

export const VERSIONS = {
  temporalCli: 'v1.5.1', // last tag without a go.mod `replace`, so plain `go install` works (server v1.29.1)
  stripeMock: 'v0.197.0',
  mailpit: 'v1.30.5',
  kafka: '3.9.1', // keep in step with temporal/kafka/pom.xml
  localstripe: '1.15.10',
} as const;

const ROOT = path.resolve(__dirname, '..');
export const CACHE = path.resolve(process.env.PAYSTREAM_CACHE_DIR ?? path.join(ROOT, '.cache'));
const BIN = path.join(CACHE, 'bin');
const RUN = path.join(CACHE, 'run');
const LOGS = path.join(CACHE, 'logs');
const cfg = loadConfig();
const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------- helpers

function log(msg: string): void {
  process.stdout.write(`[stack] ${msg}\n`);
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    log(`${label}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
}

function run(cmd: string, args: string[], opts: SpawnOptions & { what?: string } = {}): void {
  const res = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (res.error) throw new Error(`${opts.what ?? cmd}: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`${opts.what ?? cmd} exited with ${res.status}: ${cmd} ${args.join(' ')}`);
}

/** Runs a command and captures its output to a log file (so a slow build does not flood the console). */
function runLogged(cmd: string, args: string[], logName: string, opts: SpawnOptions = {}): Promise<void> {
  fs.mkdirSync(LOGS, { recursive: true });
  const logFile = path.join(LOGS, logName);
  const out = fs.openSync(logFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', out, out], ...opts });
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('exit', (code) => {
      fs.closeSync(out);
      if (code === 0) resolve();
      else {
        const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}; see ${logFile}\n${tail}`));
      }
    });
  });
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let aptUpdated = false;
function aptInstall(...packages: string[]): void {
  if (!isRoot)
    throw new Error(`missing ${packages.join(', ')}: install them (apt-get install ${packages.join(' ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) run('apt-get', ['update', '-qq'], { env, what: 'apt-get update' });
  aptUpdated = true;
  run(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...packages],
    { env, what: 'apt-get install' },
  );
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, logFile?: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail =
    logFile && fs.existsSync(logFile)
      ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n')
      : '';
  throw new Error(
    `${what} did not become ready within ${timeoutMs / 1000}s${tail ? `; last log lines:\n${tail}` : ''}`,
  );
}

async function httpOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
  return res.ok;
}

function pidFile(name: string): string {
  return path.join(RUN, `${name}.pid`);
}

function readPid(name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start a long-running server in its own process group, output to a log file, pid recorded. */
function startDaemon(
  name: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  fs.mkdirSync(RUN, { recursive: true });
  fs.mkdirSync(LOGS, { recursive: true });
  const logFile = path.join(LOGS, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? CACHE,
  });
  fs.closeSync(out);
  if (!child.pid) throw new Error(`could not start ${name} (${cmd})`);
  fs.writeFileSync(pidFile(name), String(child.pid));
  child.unref();
  return logFile;
}

async function stopDaemon(name: string): Promise<boolean> {
  const pid = readPid(name);
  if (!pid) return false;
  if (alive(pid)) {
    try {
      process.kill(-pid, 'SIGTERM'); // the whole process group: wrappers and their children
    } catch {
      process.kill(pid, 'SIGTERM');
    }
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        process.kill(pid, 'SIGKILL');
      }
    }
  }
  fs.rmSync(pidFile(name), { force: true });
  return true;
}

/** `go install` a pinned module into the cache, keyed on its version. */
async function goBinary(name: string, modulePath: string, version: string): Promise<string> {
  const target = path.join(BIN, `${name}-${version}`);
  if (fs.existsSync(target)) return target;
  if (!which('go')) throw new Error('Go is required to build the local servers (https://go.dev/dl)');
  const gobin = path.join(CACHE, 'gobin', `${name}-${version}`);
  fs.mkdirSync(gobin, { recursive: true });
  await timed(`build ${name} ${version} (first run only)`, () =>
    runLogged('go', ['install', `${modulePath}@${version}`], `build-${name}.log`, {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
    }),
  );
  fs.mkdirSync(BIN, { recursive: true });
  fs.renameSync(path.join(gobin, path.basename(modulePath)), target);
  return target;
}

// ---------------------------------------------------------------- components

interface Component {
  name: string;
  ports: number[];
  /** Fetch/build once; fast when cached. */
  install(): Promise<void>;
  /** Already answering (started by us earlier, or by someone else). */
  ready(): Promise<boolean>;
  start(): Promise<void>;
  stop?(): Promise<boolean>;
  describe(): string;
}

const pgUrl = new URL(cfg.DATABASE_URL);
const pgPort = Number(pgUrl.port || 5432);
const PG_DIR = path.join(CACHE, 'postgres');
const PG_DATA = path.join(PG_DIR, 'data');
let pgBin = '';

function findPgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const versions = fs
    .readdirSync(base)
    .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

/** As root, PostgreSQL must run as the unprivileged `postgres` user. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

async function pgConnects(): Promise<boolean> {
  const client = new PgClient({ connectionString: cfg.DATABASE_URL, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabases(): Promise<void> {
  const client = new PgClient({ connectionString: cfg.DATABASE_URL });
  await client.connect();
  try {
    for (const url of [cfg.USER_DATABASE_URL, cfg.ORDER_DATABASE_URL]) {
      const db = new URL(url).pathname.slice(1);
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!rowCount) await client.query(`CREATE DATABASE "${db.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

const postgres: Component = {
  name: 'postgres',
  ports: [pgPort],
  async install() {
    if (await pgConnects()) return; // a server that answers DATABASE_URL is used as it is
    pgBin = findPgBin() ?? '';
    if (!pgBin) {
      // No distro cluster: the project owns its cluster in the cache, so stop Debian from creating one on 5432.
      fs.mkdirSync('/etc/postgresql-common', { recursive: true });
      fs.writeFileSync('/etc/postgresql-common/createcluster.conf', 'create_main_cluster = false\n');
      await timed('apt-get install postgresql (first run only)', () =>
        Promise.resolve(aptInstall('postgresql')),
      );
      pgBin = findPgBin() ?? '';
      if (!pgBin) throw new Error('postgresql installed but initdb not found under /usr/lib/postgresql');
    }
    if (fs.existsSync(path.join(PG_DATA, 'PG_VERSION'))) return;
    fs.mkdirSync(PG_DIR, { recursive: true });
    const pwFile = path.join(PG_DIR, 'pwfile');
    fs.writeFileSync(pwFile, decodeURIComponent(pgUrl.password || 'paystream'));
    if (isRoot) run('chown', ['-R', 'postgres:postgres', PG_DIR]);
    const [cmd, args] = asPostgres(path.join(pgBin, 'initdb'), [
      '-D',
      PG_DATA,
      '-U',
      decodeURIComponent(pgUrl.username || 'paystream'),
      '--pwfile',
      pwFile,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    await timed('initdb', () => runLogged(cmd, args, 'initdb.log'));
    fs.rmSync(pwFile, { force: true });
  },
  ready: pgConnects,
  async start() {
    const logFile = path.join(LOGS, 'postgres.log');
    fs.mkdirSync(LOGS, { recursive: true });
    if (isRoot) {
      fs.writeFileSync(logFile, '', { flag: 'a' });
      run('chown', ['postgres:postgres', logFile]);
    }
    const [cmd, args] = asPostgres(path.join(pgBin, 'pg_ctl'), [
      'start',
      '-D',
      PG_DATA,
      '-l',
      logFile,
      '-w',
      '-o',
      // Sockets in our own folder: /var/run/postgresql may not exist without the distro cluster.
      `-p ${pgPort} -c listen_addresses=127.0.0.1 -k ${PG_DIR} -c max_connections=200 -c fsync=on`,
    ]);
    run(cmd, args, { what: 'pg_ctl start', stdio: 'ignore' });
    fs.mkdirSync(RUN, { recursive: true });
    fs.writeFileSync(
      pidFile('postgres'),
      fs.readFileSync(path.join(PG_DATA, 'postmaster.pid'), 'utf8').split('\n')[0]!,
    );
    await waitFor('postgres', pgConnects, 30_000, logFile);
  },
  async stop() {
    if (!readPid('postgres')) return false;
    const bin = findPgBin();
    if (bin) {
      const [cmd, args] = asPostgres(path.join(bin, 'pg_ctl'), ['stop', '-D', PG_DATA, '-m', 'fast', '-w']);
      spawnSync(cmd, args, { stdio: 'ignore' });
    }
    return stopDaemon('postgres');
  },
  describe: () => `postgres     ${cfg.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')} (databases users, orders)`,
};

const KAFKA_DIR = path.join(CACHE, 'kafka');
const KAFKA_LIB = path.join(KAFKA_DIR, `lib-${VERSIONS.kafka}`);
const kafkaPort = Number(cfg.KAFKA_BROKERS[0]?.split(':')[1] ?? 9092);
const kafkaControllerPort = Number(process.env.KAFKA_CONTROLLER_PORT ?? 9093);

async function kafkaAnswers(): Promise<boolean> {
  if (!(await portOpen(kafkaPort))) return false;
  const admin = createKafka('stack-probe', cfg.KAFKA_BROKERS).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const kafka: Component = {
  name: 'kafka',
  ports: [kafkaPort, kafkaControllerPort],
  async install() {
    if (!which('java')) aptInstall('openjdk-17-jre-headless');
    const done = path.join(KAFKA_LIB, '.complete');
    if (fs.existsSync(done)) return;
    if (!which('mvn')) aptInstall('maven');
    await timed(`resolve Kafka ${VERSIONS.kafka} jars from Maven Central (first run only)`, () =>
      runLogged(
        'mvn',
        [
          '-q',
          '-B',
          '-f',
          path.join(__dirname, 'kafka', 'pom.xml'),
          'dependency:copy-dependencies',
          `-DoutputDirectory=${KAFKA_LIB}`,
          '-DincludeScope=runtime',
        ],
        'mvn-kafka.log',
      ),
    );
    fs.writeFileSync(done, new Date().toISOString());
  },
  ready: kafkaAnswers,
  async start() {
    const dataDir = path.join(KAFKA_DIR, 'data');
    const props = path.join(KAFKA_DIR, 'server.properties');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(
      props,
      [
        '# Written by temporal/stack.ts: one broker that is also the KRaft controller.',
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${kafkaControllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${kafkaControllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${dataDir}`,
        'num.partitions=3',
        'auto.create.topics.enable=false',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=10',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'log.retention.hours=168',
        '',
      ].join('\n'),
    );
    const log4j = path.join(KAFKA_DIR, 'log4j.properties');
    fs.writeFileSync(
      log4j,
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.logger.kafka.server.KafkaServer=INFO',
        'log4j.logger.kafka.server.KafkaRaftServer=INFO',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        '',
      ].join('\n'),
    );
    const classpath = `${KAFKA_LIB}/*`;
    const jvm = ['-Xms256m', '-Xmx512m', `-Dlog4j.configuration=file:${log4j}`, '-cp', classpath];
    if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
      // KRaft storage must be formatted once with a cluster id (22 chars of base64url of 16 bytes).
      const clusterId = randomBytes(16).toString('base64url');
      await runLogged(
        'java',
        [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted'],
        'kafka-format.log',
      );
    }
    const logFile = startDaemon('kafka', 'java', [...jvm, 'kafka.Kafka', props]);
    await waitFor('kafka', kafkaAnswers, 90_000, logFile);
    await ensureTopics(createKafka('stack-admin', cfg.KAFKA_BROKERS), ALL_TOPICS, 3);
  },
  describe: () => `kafka        ${cfg.KAFKA_BROKERS.join(',')} (topics ${ALL_TOPICS.join(', ')})`,
};

let temporalBin = '';
async function temporalAnswers(): Promise<boolean> {
  if (!(await portOpen(Number(cfg.TEMPORAL_ADDRESS.split(':')[1] ?? 7233)))) return false;
  const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS, connectTimeout: 1000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: cfg.TEMPORAL_NAMESPACE });
    return await httpOk(`http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}/`);
  } finally {
    await connection.close();
  }
}

const temporal: Component = {
  name: 'temporal',
  ports: [Number(cfg.TEMPORAL_ADDRESS.split(':')[1] ?? 7233), cfg.TEMPORAL_UI_PORT],
  async install() {
    temporalBin = await goBinary('temporal', 'github.com/temporalio/cli/cmd/temporal', VERSIONS.temporalCli);
  },
  ready: temporalAnswers,
  async start() {
    const dir = path.join(CACHE, 'temporal');
    fs.mkdirSync(dir, { recursive: true });
    const [host, port] = cfg.TEMPORAL_ADDRESS.split(':');
    const logFile = startDaemon('temporal', temporalBin, [
      'server',
      'start-dev',
      '--ip',
      host ?? '127.0.0.1',
      '--port',
      port ?? '7233',
      '--ui-port',
      String(cfg.TEMPORAL_UI_PORT),
      '--db-filename',
      path.join(dir, 'temporal.db'), // workflow histories survive a restart of the dev server
      // WAL with NORMAL sync survives a crash of the server process (not of the machine) and spares an
      // fsync per write: the default journal made the dev server the bottleneck under load.
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
      '--namespace',
      cfg.TEMPORAL_NAMESPACE,
      // Operators find a payment in the Web UI by typing its order id.
      '--search-attribute',
      'OrderId=Keyword',
      '--search-attribute',
      'UserId=Keyword',
      '--log-level',
      'warn',
    ]);
    await waitFor('temporal', temporalAnswers, 60_000, logFile);
  },
  describe: () =>
    `temporal     ${cfg.TEMPORAL_ADDRESS} (namespace ${cfg.TEMPORAL_NAMESPACE}), Web UI http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`,
};

export function temporalBinaryPath(): string {
  return path.join(BIN, `temporal-${VERSIONS.temporalCli}`);
}

/** The built Mailpit, for tests that run a second SMTP server they can stop and start. */
export function mailpitBinaryPath(): string {
  return path.join(BIN, `mailpit-${VERSIONS.mailpit}`);
}

let stripeMockBin = '';
const stripeMockAnswers = () =>
  httpOk(`http://127.0.0.1:${cfg.STRIPE_MOCK_PORT}/v1/customers`, { authorization: 'Bearer sk_test_123' });
const stripeMock: Component = {
  name: 'stripe-mock',
  ports: [cfg.STRIPE_MOCK_PORT, cfg.STRIPE_MOCK_PORT + 1],
  async install() {
    stripeMockBin = await goBinary('stripe-mock', 'github.com/stripe/stripe-mock', VERSIONS.stripeMock);
  },
  ready: stripeMockAnswers,
  async start() {
    // It always serves HTTPS too; give that its own loopback port next to the HTTP one.
    const logFile = startDaemon('stripe-mock', stripeMockBin, [
      '-http-addr',
      `127.0.0.1:${cfg.STRIPE_MOCK_PORT}`,
      '-https-addr',
      `127.0.0.1:${cfg.STRIPE_MOCK_PORT + 1}`,
    ]);
    await waitFor('stripe-mock', stripeMockAnswers, 30_000, logFile);
  },
  describe: () => `stripe-mock  http://127.0.0.1:${cfg.STRIPE_MOCK_PORT} (Stripe's OpenAPI conformance mock)`,
};

const LOCALSTRIPE_VENV = path.join(CACHE, `localstripe-${VERSIONS.localstripe}`);
const localstripeAnswers = () =>
  httpOk(`http://127.0.0.1:${cfg.LOCALSTRIPE_PORT}/v1/customers`, { authorization: 'Bearer sk_test_123' });
const localstripe: Component = {
  name: 'localstripe',
  ports: [cfg.LOCALSTRIPE_PORT],
  async install() {
    if (fs.existsSync(path.join(LOCALSTRIPE_VENV, 'bin', 'localstripe'))) return;
    const python = which('python3') ? 'python3' : undefined;
    if (!python) aptInstall('python3', 'python3-venv');
    await timed(`pip install localstripe ${VERSIONS.localstripe} (first run only)`, async () => {
      await runLogged('python3', ['-m', 'venv', LOCALSTRIPE_VENV], 'venv-localstripe.log');
      await runLogged(
        path.join(LOCALSTRIPE_VENV, 'bin', 'pip'),
        ['install', '-q', `localstripe==${VERSIONS.localstripe}`],
        'pip-localstripe.log',
      );
    });
  },
  ready: localstripeAnswers,
  async start() {
    // In memory, from scratch: see temporal/localstripe_in_memory.py for why not localstripe's own pickle.
    const logFile = startDaemon('localstripe', path.join(LOCALSTRIPE_VENV, 'bin', 'python3'), [
      path.join(__dirname, 'localstripe_in_memory.py'),
      '--port',
      String(cfg.LOCALSTRIPE_PORT),
      '--from-scratch',
    ]);
    await waitFor('localstripe', localstripeAnswers, 30_000, logFile);
  },
  describe: () =>
    `localstripe  http://127.0.0.1:${cfg.LOCALSTRIPE_PORT} (stateful fake Stripe the services use)`,
};

let mailpitBin = '';
const mailpitAnswers = () => httpOk(`http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/info`);
const mailpit: Component = {
  name: 'mailpit',
  ports: [cfg.SMTP_PORT, cfg.MAIL_API_PORT],
  async install() {
    mailpitBin = await goBinary('mailpit', 'github.com/axllent/mailpit', VERSIONS.mailpit);
  },
  async ready() {
    return (await mailpitAnswers()) && (await portOpen(cfg.SMTP_PORT));
  },
  async start() {
    const logFile = startDaemon('mailpit', mailpitBin, [
      '--listen',
      `127.0.0.1:${cfg.MAIL_API_PORT}`,
      '--smtp',
      `127.0.0.1:${cfg.SMTP_PORT}`,
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--quiet',
    ]);
    await waitFor('mailpit', () => mailpit.ready(), 30_000, logFile);
  },
  describe: () =>
    `mailpit      smtp://127.0.0.1:${cfg.SMTP_PORT}, API http://127.0.0.1:${cfg.MAIL_API_PORT}/api/v1/messages`,
};

export const COMPONENTS: Component[] = [postgres, kafka, temporal, stripeMock, localstripe, mailpit];

export function component(name: string): Component {
  const c = COMPONENTS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown component ${name}`);
  return c;
}

// ---------------------------------------------------------------- commands

export async function up(names: string[] = COMPONENTS.map((c) => c.name)): Promise<string[]> {
  const started: string[] = [];
  const selected = names.map(component);
  fs.mkdirSync(CACHE, { recursive: true });
  // Installs run side by side (Go builds, Maven and pip are mostly waiting on the network).
  await timed('install (cached after the first run)', () =>
    Promise.all(selected.map((c) => c.install())).then(() => undefined),
  );
  await Promise.all(
    selected.map(async (c) => {
      if (await c.ready().catch(() => false)) {
        const ours = readPid(c.name);
        log(
          `${c.name} already answering${ours && alive(ours) ? ` (pid ${ours})` : ' (not started by this script; left alone)'}`,
        );
        if (c === kafka) await ensureTopics(createKafka('stack-admin', cfg.KAFKA_BROKERS), ALL_TOPICS, 3);
        return;
      }
      const busy = (await Promise.all(c.ports.map((p) => portOpen(p)))).some(Boolean);
      if (busy && !readPid(c.name)) {
        throw new Error(
          `${c.name}: port ${c.ports.join('/')} is taken by something that is not ${c.name}; free it or set its *_PORT`,
        );
      }
      await stopDaemon(c.name); // a stale or half-started earlier run
      await timed(`start ${c.name}`, () => c.start());
      started.push(c.name);
    }),
  );
  if (selected.includes(postgres)) await ensureDatabases();
  for (const c of selected) log(c.describe());
  const show = (p: string) =>
    path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p);
  log(`logs and pids under ${show(LOGS)}, ${show(RUN)}`);
  return started;
}

export async function down(names: string[] = COMPONENTS.map((c) => c.name)): Promise<void> {
  for (const c of names.map(component).reverse()) {
    const stopped = c.stop ? await c.stop() : await stopDaemon(c.name);
    if (stopped) log(`stopped ${c.name}`);
  }
}

export async function status(): Promise<boolean> {
  let allUp = true;
  for (const c of COMPONENTS) {
    const ok = await c.ready().catch(() => false);
    const pid = readPid(c.name);
    allUp &&= ok;
    log(`${ok ? 'up  ' : 'down'} ${c.describe()}${pid && alive(pid) ? ` [pid ${pid}]` : ''}`);
  }
  return allUp;
}

if (require.main === module) {
  const [command = 'status', ...names] = process.argv.slice(2);
  const commands: Record<string, () => Promise<unknown>> = {
    up: () => timed('stack up', () => up(names.length ? names : undefined)),
    down: () => down(names.length ? names : undefined),
    status: async () => {
      if (!(await status())) process.exitCode = 1;
    },
  };
  const fn = commands[command];
  if (!fn) {
    console.error('usage: tsx temporal/stack.ts up|down|status [component...]');
    process.exit(2);
  }
  fn().then(
    () => process.exit(),
    (err: unknown) => {
      console.error(`[stack] ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
