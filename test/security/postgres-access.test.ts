import { Client } from 'pg';
import { SERVICE_DATABASES } from '@paystream/common/config';
import { postgresCaFile } from '../../stack';
import { cfg } from '../support';

/**
 * Least privilege on the real Postgres: each service connects as its own role, which owns its database and
 * can reach no other; TLS is verified against the server's CA the way production URLs ask for it.
 */
async function connectAs(url: string): Promise<{ user: string; ssl: boolean }> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ user: string; ssl: boolean }>(
      'SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}

const onDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

describe('PostgreSQL: a role per service, its own database only, TLS', () => {
  const services = [
    ['user', cfg.USER_DATABASE_URL],
    ['order', cfg.ORDER_DATABASE_URL],
    ['payment', cfg.PAYMENT_DATABASE_URL],
  ] as const;

  it.each(services)('%s connects as its own role, never the administrator', async (service, url) => {
    expect(await connectAs(url)).toMatchObject({ user: SERVICE_DATABASES[service].role });
  });

  it.each(services)("%s's role cannot connect to any other database", async (service, url) => {
    const others = ['postgres', ...Object.values(SERVICE_DATABASES).map((d) => d.database)].filter(
      (db) => db !== SERVICE_DATABASES[service].database,
    );
    for (const db of others)
      await expect(connectAs(onDatabase(url, db))).rejects.toThrow(`permission denied for database "${db}"`);
  });

  it('speaks TLS verified against its CA with sslmode=verify-full, and refuses a wrong CA', async () => {
    const verified = `${cfg.ORDER_DATABASE_URL}?sslmode=verify-full&sslrootcert=${postgresCaFile()}`;
    expect(await connectAs(verified)).toEqual({ user: 'order_service', ssl: true });
    // Any other CA (here: none but the system's) cannot vouch for the server: no connection.
    await expect(connectAs(`${cfg.ORDER_DATABASE_URL}?sslmode=verify-full`)).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});
