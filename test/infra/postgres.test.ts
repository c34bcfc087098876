import { randomUUID } from 'node:crypto';
import { Column, Entity, PrimaryColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createDataSource, initDataSource } from '@paystream/common/db';
import { cfg } from '../support';

@Entity({ name: 'infra_probe' })
class Probe {
  @PrimaryColumn('uuid') id: string;
  @Column('text') note: string;
  @Column('timestamptz', { default: () => 'now()' }) createdAt: Date;
}

class CreateProbe1700000000000 implements MigrationInterface {
  name = 'CreateProbe1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE IF NOT EXISTS infra_probe (id uuid PRIMARY KEY, note text NOT NULL, "createdAt" timestamptz NOT NULL DEFAULT now())`,
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS infra_probe');
  }
}

describe('PostgreSQL (real server, via TypeORM)', () => {
  // A scratch database of its own, so the probe table never lands in a service's schema.
  const url = new URL(cfg.DATABASE_URL);
  url.pathname = '/paystream_infra_test';

  beforeAll(async () => {
    const admin = createDataSource(cfg.DATABASE_URL, [], []);
    await admin.initialize();
    const exists = await admin.query<unknown[]>('SELECT 1 FROM pg_database WHERE datname = $1', [
      'paystream_infra_test',
    ]);
    if (!exists.length) await admin.query('CREATE DATABASE paystream_infra_test');
    await admin.destroy();
  });

  it('runs a migration and round-trips a row', async () => {
    const ds = await initDataSource(createDataSource(url.toString(), [Probe], [CreateProbe1700000000000]));
    try {
      const id = randomUUID();
      await ds.getRepository(Probe).insert({ id, note: 'hello postgres' });
      const row = await ds.getRepository(Probe).findOneByOrFail({ id });
      expect(row.note).toBe('hello postgres');
      expect(row.createdAt).toBeInstanceOf(Date);
      const [server] = await ds.query<{ server_version: string }[]>('SHOW server_version');
      expect(Number.parseInt(server!.server_version, 10)).toBeGreaterThanOrEqual(13);
      const migrations = await ds.query<{ name: string }[]>('SELECT name FROM migrations');
      expect(migrations.map((m) => m.name)).toContain('CreateProbe1700000000000');
    } finally {
      await ds.destroy();
    }
  });
});
