import { createStripe, httpPart, initDataSource, runService } from '@paystream/common';
import { createUserApp } from './app';
import { userDataSource } from './db/data-source';

runService('user', async (svc) => {
  const { cfg, logger } = svc;
  const db = await svc.part(
    'postgres',
    () => initDataSource(userDataSource(cfg.USER_DATABASE_URL)),
    (db) => db.destroy(),
  );
  // Requests wait for Stripe synchronously, so the SDK may retry a dropped connection twice.
  const stripe = createStripe(cfg, 2);
  await httpPart(svc, createUserApp({ logger, db, cfg, stripe }), cfg.USER_PORT);
});
