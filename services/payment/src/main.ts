import {
  closeServer,
  connectTemporal,
  createKafka,
  createLogger,
  listen,
  loadConfig,
  runMain,
} from '@paystream/common';
import { createPaymentApp } from './app';

const logger = createLogger('payment');

runMain('payment', logger, async () => {
  const cfg = loadConfig();
  const kafka = createKafka('payment', cfg.KAFKA_BROKERS, logger);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const temporal = await connectTemporal(cfg.TEMPORAL_ADDRESS);
  const app = createPaymentApp({ logger, kafkaAdmin, temporal, namespace: cfg.TEMPORAL_NAMESPACE });
  const server = await listen(app, cfg.PAYMENT_PORT, cfg.HOST);
  logger.info({ port: cfg.PAYMENT_PORT }, 'payment service listening');
  return async () => {
    await closeServer(server);
    await kafkaAdmin.disconnect();
    await temporal.close();
  };
});
