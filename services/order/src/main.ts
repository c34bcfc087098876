import {
  closeServer,
  createKafka,
  createLogger,
  initDataSource,
  listen,
  loadConfig,
  runMain,
} from '@paystream/common';
import { createOrderApp } from './app';
import { orderDataSource } from './db/data-source';

const logger = createLogger('order');

runMain('order', logger, async () => {
  const cfg = loadConfig();
  const db = await initDataSource(orderDataSource(cfg.ORDER_DATABASE_URL));
  const kafka = createKafka('order', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const server = await listen(createOrderApp({ logger, db, kafkaAdmin }), cfg.ORDER_PORT, cfg.HOST);
  logger.info({ port: cfg.ORDER_PORT }, 'order service listening');
  return async () => {
    await closeServer(server);
    await kafkaAdmin.disconnect();
    await db.destroy();
  };
});
