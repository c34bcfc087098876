import { databasePart } from '@paystream/common/db';
import { httpPart, runService } from '@paystream/common/runtime';
import { createStripe } from '@paystream/common/stripe';
import { createUserApp } from './app';
import { userDataSource } from './db/data-source';

runService('user', async (svc) => {
  const { cfg, logger } = svc;
  const db = await databasePart(svc, userDataSource(cfg.USER_DATABASE_URL));
  // Requests wait for Stripe synchronously, so the SDK may retry a dropped connection twice.
  const stripe = createStripe(cfg, { maxNetworkRetries: 2 });
  await httpPart(svc, createUserApp({ logger, db, cfg, stripe }), cfg.USER_PORT);
});
