import 'reflect-metadata';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { ServiceRuntime } from './runtime';

type EntityList = MixedList<string | (new () => unknown) | EntitySchema>;
type MigrationList = MixedList<string | (new () => unknown)>;

/** A TypeORM data source for one service's own database. Schema changes go through migrations only. */
export function createDataSource(url: string, entities: EntityList, migrations: MigrationList): DataSource {
  const options: DataSourceOptions = {
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    extra: { max: 10, connectionTimeoutMillis: 3000, idleTimeoutMillis: 30_000 },
  };
  return new DataSource(options);
}

export async function initDataSource(ds: DataSource, runMigrations = true): Promise<DataSource> {
  if (!ds.isInitialized) await ds.initialize();
  if (runMigrations) await ds.runMigrations();
  return ds;
}

/** The service's own database, migrated to its schema at start. */
export function databasePart(svc: ServiceRuntime, dataSource: DataSource): Promise<DataSource> {
  return svc.part(
    'postgres',
    () => initDataSource(dataSource),
    (db) => db.destroy(),
  );
}
