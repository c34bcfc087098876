import {
  closeServer,
  connectTemporal,
  createKafka,
  createLogger,
  listen,
  loadConfig,
  runMain,
} from '@paystream/common';
import { createNotificationApp } from './app';
import { createMailer } from './mailer';

const logger = createLogger('notification');

runMain('notification', logger, async () => {
  const cfg = loadConfig();
  const kafka = createKafka('notification', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const temporal = await connectTemporal(cfg.TEMPORAL_ADDRESS);
  const mailer = createMailer(cfg);
  const app = createNotificationApp({
    logger,
    kafkaAdmin,
    temporal,
    namespace: cfg.TEMPORAL_NAMESPACE,
    mailer,
  });
  const server = await listen(app, cfg.NOTIFICATION_PORT, cfg.HOST);
  logger.info({ port: cfg.NOTIFICATION_PORT }, 'notification service listening');
  return async () => {
    await closeServer(server);
    mailer.close();
    await kafkaAdmin.disconnect();
    await temporal.close();
  };
});
