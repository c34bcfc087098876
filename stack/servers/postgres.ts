/** PostgreSQL: the distro's binaries, a cluster of the project's own in the cache (.cache/postgres/data). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { isRoot, pidFile, readPid, run, runLogged, stopDaemon, timed, waitFor, which } from '../process';
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

/** The local CA that signed the server's certificate: `sslrootcert` of a `sslmode=verify-full` URL. */
export function postgresCaPath(cache: string): string {
  return path.join(cache, 'postgres', 'tls', 'ca.pem');
}

/**
 * A certificate for 127.0.0.1/localhost signed by a CA of the stack's own (generated once), so the local
 * server speaks TLS as a production one does and `sslmode=verify-full` can be tried for real.
 */
function ensureServerCertificate(tlsDir: string, aptInstall: (pkg: string) => void): void {
  if (fs.existsSync(path.join(tlsDir, 'server.key'))) return;
  if (!which('openssl')) aptInstall('openssl');
  fs.mkdirSync(tlsDir, { recursive: true });
  const at = (f: string) => path.join(tlsDir, f);
  fs.writeFileSync(at('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const openssl = (...args: string[]) =>
    run('openssl', args, { what: `openssl ${args[0]}`, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=Paystream local CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    at('server.key.tmp'),
    '-out',
    at('server.csr'),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    at('san.cnf'),
    '-out',
    at('server.pem'),
  );
  fs.chmodSync(at('server.key.tmp'), 0o600);
  if (isRoot) run('chown', ['-R', 'postgres:postgres', tlsDir]);
  fs.renameSync(at('server.key.tmp'), at('server.key')); // last: its presence means "done"
}

export function postgresServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
  const pgUrl = new URL(cfg.DATABASE_URL);
  const port = Number(pgUrl.port || 5432);
  const dir = path.join(paths.cache, 'postgres');
  const data = path.join(dir, 'data');
  const tlsDir = path.join(dir, 'tls');

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

  /** A database and every table in it (sequences follow their tables) to `role`. */
  async function handOver(db: string, role: string): Promise<void> {
    const url = new URL(cfg.DATABASE_URL);
    url.pathname = `/${db}`;
    const client = new PgClient({ connectionString: url.toString() });
    await client.connect();
    try {
      const owner = client.escapeIdentifier(role);
      const { rows } = await client.query<{ name: string }>(
        `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
      );
      for (const { name } of rows) await client.query(`ALTER TABLE ${name} OWNER TO ${owner}`);
      // The database last: its owner is what says the hand-over is done, so an interrupted one runs again.
      await client.query(`ALTER DATABASE ${client.escapeIdentifier(db)} OWNER TO ${owner}`);
    } finally {
      await client.end();
    }
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
      ensureServerCertificate(tlsDir, aptInstall);
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
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=200 -c fsync=on` +
          ` -c ssl=on -c ssl_cert_file=${tlsDir}/server.pem -c ssl_key_file=${tlsDir}/server.key`,
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
    /**
     * Least privilege: each service's role owns its database and may connect to nothing else (CONNECT is
     * revoked from PUBLIC). A database an older stack created as the administrator is handed over.
     */
    async provision() {
      const admin = new PgClient({ connectionString: cfg.DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`REVOKE CONNECT ON DATABASE postgres FROM PUBLIC`);
        for (const url of [
          cfg.USER_DATABASE_URL,
          cfg.ORDER_DATABASE_URL,
          cfg.PAYMENT_DATABASE_URL,
          cfg.NOTIFICATION_DATABASE_URL,
        ]) {
          const u = new URL(url);
          const db = u.pathname.slice(1);
          const role = decodeURIComponent(u.username);
          const ident = (name: string) => admin.escapeIdentifier(name);
          if (role !== decodeURIComponent(pgUrl.username)) {
            const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
            const password = admin.escapeLiteral(decodeURIComponent(u.password));
            await admin.query(
              `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} LOGIN PASSWORD ${password}`,
            );
          }
          const { rows } = await admin.query<{ owner: string }>(
            'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
            [db],
          );
          if (!rows.length) await admin.query(`CREATE DATABASE ${ident(db)} OWNER ${ident(role)}`);
          else if (rows[0]!.owner !== role) await handOver(db, role);
          await admin.query(`REVOKE ALL ON DATABASE ${ident(db)} FROM PUBLIC`);
          await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db)} TO ${ident(role)}`);
        }
      } finally {
        await admin.end();
      }
    },
    describe: () =>
      `postgres     ${cfg.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')} (TLS; databases users, orders, payments, notifications, each owned by its service's role)`,
  };
}
