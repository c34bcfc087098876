import {
  closeServer,
  createLogger,
  createStripe,
  initDataSource,
  listen,
  loadConfig,
  runMain,
} from '@paystream/common';
import { createUserApp } from './app';
import { userDataSource } from './db/data-source';

const logger = createLogger('user');

runMain('user', logger, async () => {
  const cfg = loadConfig();
  const db = await initDataSource(userDataSource(cfg.USER_DATABASE_URL));
  // Requests wait for Stripe synchronously, so the SDK may retry a dropped connection twice.
  const stripe = createStripe(cfg, 2);
  const server = await listen(createUserApp({ logger, db, cfg, stripe }), cfg.USER_PORT, cfg.HOST);
  logger.info({ port: cfg.USER_PORT }, 'user service listening');
  return async () => {
    await closeServer(server);
    await db.destroy();
  };
});
