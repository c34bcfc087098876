/** PostgreSQL: the distro's binaries, a cluster of the project's own in the cache (.cache/postgres/data). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { isRoot, pidFile, readPid, run, runLogged, stopDaemon, timed, waitFor } from '../process';
import type { LocalServer, ServerDeps } from './server';

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

export function postgresServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
  const pgUrl = new URL(cfg.DATABASE_URL);
  const port = Number(pgUrl.port || 5432);
  const dir = path.join(paths.cache, 'postgres');
  const data = path.join(dir, 'data');

  async function connects(): Promise<boolean> {
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

  async function initdb(pgBin: string): Promise<void> {
    fs.mkdirSync(dir, { recursive: true });
    const pwFile = path.join(dir, 'pwfile');
    fs.writeFileSync(pwFile, decodeURIComponent(pgUrl.password || 'paystream'));
    if (isRoot) run('chown', ['-R', 'postgres:postgres', dir]);
    const [cmd, args] = asPostgres(path.join(pgBin, 'initdb'), [
      '-D',
      data,
      '-U',
      decodeURIComponent(pgUrl.username || 'paystream'),
      '--pwfile',
      pwFile,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    await timed('initdb', () => runLogged(paths.logs, cmd, args, 'initdb.log'));
    fs.rmSync(pwFile, { force: true });
  }

  return {
    name: 'postgres',
    ports: [port],
    /** Resolves to the PostgreSQL bin folder. */
    async install() {
      if (await connects()) return findPgBin() ?? ''; // a server that answers DATABASE_URL is used as it is
      let pgBin = findPgBin();
      if (!pgBin) {
        // No distro cluster: the project owns its cluster in the cache, so stop Debian from creating one on 5432.
        fs.mkdirSync('/etc/postgresql-common', { recursive: true });
        fs.writeFileSync('/etc/postgresql-common/createcluster.conf', 'create_main_cluster = false\n');
        await timed('apt-get install postgresql (first run only)', () =>
          Promise.resolve(aptInstall('postgresql')),
        );
        pgBin = findPgBin();
        if (!pgBin) throw new Error('postgresql installed but initdb not found under /usr/lib/postgresql');
      }
      if (!fs.existsSync(path.join(data, 'PG_VERSION'))) await initdb(pgBin);
      return pgBin;
    },
    ready: connects,
    async start(pgBin) {
      const logFile = path.join(paths.logs, 'postgres.log');
      fs.mkdirSync(paths.logs, { recursive: true });
      if (isRoot) {
        fs.writeFileSync(logFile, '', { flag: 'a' });
        run('chown', ['postgres:postgres', logFile]);
      }
      const [cmd, args] = asPostgres(path.join(pgBin, 'pg_ctl'), [
        'start',
        '-D',
        data,
        '-l',
        logFile,
        '-w',
        '-o',
        // Sockets in our own folder: /var/run/postgresql may not exist without the distro cluster.
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=200 -c fsync=on`,
      ]);
      run(cmd, args, { what: 'pg_ctl start', stdio: 'ignore' });
      fs.mkdirSync(paths.run, { recursive: true });
      fs.writeFileSync(
        pidFile(paths.run, 'postgres'),
        fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]!,
      );
      await waitFor('postgres', connects, 30_000, logFile);
    },
    async stop() {
      if (!readPid(paths.run, 'postgres')) return false;
      const bin = findPgBin();
      if (bin) {
        const [cmd, args] = asPostgres(path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
        spawnSync(cmd, args, { stdio: 'ignore' });
      }
      return stopDaemon(paths.run, 'postgres');
    },
    /** The services' databases (users, orders) on the one server. */
    async provision() {
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
    },
    describe: () =>
      `postgres     ${cfg.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')} (databases users, orders)`,
  };
}
