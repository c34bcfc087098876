/** Kafka 3.9, one KRaft broker that is also its controller, on the machine's Java from jars in the cache. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ALL_TOPICS, createKafka, ensureTopics } from '@paystream/common';
import { portOpen, runLogged, startDaemon, stopDaemon, timed, waitFor, which } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

/** Resolves the broker and its dependencies from Maven Central (see the comment in that pom). */
const POM = path.join(__dirname, '..', 'kafka', 'pom.xml');

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    '# Written by stack/servers/kafka.ts: one broker that is also the KRaft controller.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.logger.kafka.server.KafkaServer=INFO',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

export function kafkaServer({ cfg, paths, aptInstall }: ServerDeps): LocalServer {
  const dir = path.join(paths.cache, 'kafka');
  const lib = path.join(dir, `lib-${VERSIONS.kafka}`);
  const port = Number(cfg.KAFKA_BROKERS[0]?.split(':')[1] ?? 9092);
  const controllerPort = Number(process.env.KAFKA_CONTROLLER_PORT ?? 9093);

  async function answers(): Promise<boolean> {
    if (!(await portOpen(port))) return false;
    const admin = createKafka('stack-probe', cfg.KAFKA_BROKERS).admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  return {
    name: 'kafka',
    ports: [port, controllerPort],
    /** Resolves to the folder of Kafka's jars. */
    async install() {
      if (!which('java')) aptInstall('openjdk-17-jre-headless');
      const done = path.join(lib, '.complete');
      if (fs.existsSync(done)) return lib;
      if (!which('mvn')) aptInstall('maven');
      await timed(`resolve Kafka ${VERSIONS.kafka} jars from Maven Central (first run only)`, () =>
        runLogged(
          paths.logs,
          'mvn',
          [
            '-q',
            '-B',
            '-f',
            POM,
            'dependency:copy-dependencies',
            `-DoutputDirectory=${lib}`,
            '-DincludeScope=runtime',
          ],
          'mvn-kafka.log',
        ),
      );
      fs.writeFileSync(done, new Date().toISOString());
      return lib;
    },
    ready: answers,
    async start(jars) {
      const dataDir = path.join(dir, 'data');
      const props = path.join(dir, 'server.properties');
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(props, serverProperties(port, controllerPort, dataDir));
      const log4j = path.join(dir, 'log4j.properties');
      fs.writeFileSync(log4j, LOG4J);
      const jvm = ['-Xms256m', '-Xmx512m', `-Dlog4j.configuration=file:${log4j}`, '-cp', `${jars}/*`];
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        // KRaft storage must be formatted once with a cluster id (22 chars of base64url of 16 bytes).
        // Passed as `--cluster-id=…`: one in 32 ids starts with '-', which the tool's parser reads as a flag.
        const clusterId = randomBytes(16).toString('base64url');
        await runLogged(
          paths.logs,
          'java',
          [
            ...jvm,
            'kafka.tools.StorageTool',
            'format',
            `--cluster-id=${clusterId}`,
            '-c',
            props,
            '--ignore-formatted',
          ],
          'kafka-format.log',
        );
      }
      const logFile = startDaemon(paths, 'kafka', 'java', [...jvm, 'kafka.Kafka', props]);
      await waitFor('kafka', answers, 90_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'kafka'),
    /** Every topic the services use, also on a Kafka that was already running. */
    provision: () => ensureTopics(createKafka('stack-admin', cfg.KAFKA_BROKERS), ALL_TOPICS, 3),
    describe: () => `kafka        ${cfg.KAFKA_BROKERS.join(',')} (topics ${ALL_TOPICS.join(', ')})`,
  };
}
