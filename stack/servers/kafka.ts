/** Kafka 3.9, one KRaft broker that is also its controller, on the machine's Java from jars in the cache. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { devKafkaPassword } from '@paystream/common/config';
import { ALL_TOPICS } from '@paystream/common/events';
import { createKafka, ensureTopics, KAFKA_ADMIN_PRINCIPAL } from '@paystream/common/kafka';
import { ensureKafkaAcls, KAFKA_ACCESS } from '@paystream/common/kafka-access';
import { portOpen, runLogged, startDaemon, stopDaemon, timed, waitFor, which } from '../process';
import { VERSIONS } from '../versions';
import type { LocalServer, ServerDeps } from './server';

/** Resolves the broker and its dependencies from Maven Central (see the comment in that pom). */
const POM = path.join(__dirname, '..', 'kafka', 'pom.xml');

/** Principals with SCRAM credentials: the admin (super user: topics, ACLs, tests) and one per service. */
const PRINCIPALS = [KAFKA_ADMIN_PRINCIPAL, ...Object.keys(KAFKA_ACCESS)];

/** The controller listener's own login (SASL/PLAIN: SCRAM credentials live in the metadata it serves). */
const CONTROLLER_PASSWORD = devKafkaPassword('controller');

const jaas = (module: string, user: string, password: string, extra = '') =>
  `org.apache.kafka.common.security.${module} required username="${user}" password="${password}"${extra};`;

/**
 * One broker that is also the KRaft controller, as production runs it: clients authenticate with
 * SCRAM-SHA-512 and the StandardAuthorizer allows only what kafka-access.ts grants (no ACL, no access).
 * The local stack skips TLS (loopback only); clients have KAFKA_SSL for a real cluster.
 */
function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    '# Written by stack/servers/kafka.ts: one broker that is also the KRaft controller, SASL + ACLs.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512',
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule', KAFKA_ADMIN_PRINCIPAL, devKafkaPassword(KAFKA_ADMIN_PRINCIPAL))}`,
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', 'controller', CONTROLLER_PASSWORD, ` user_controller="${CONTROLLER_PASSWORD}"`)}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${KAFKA_ADMIN_PRINCIPAL};User:controller`,
    'allow.everyone.if.no.acl.found=false',
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
    const admin = createKafka('stack-probe', cfg).admin({ retry: { retries: 0 } });
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
      // SCRAM credentials are written when the storage is formatted: new principals, new storage.
      const dataDir = path.join(dir, `data-sasl-${PRINCIPALS.join('-')}`);
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
            ...PRINCIPALS.flatMap((name) => [
              '--add-scram',
              `SCRAM-SHA-512=[name=${name},password=${devKafkaPassword(name)}]`,
            ]),
          ],
          'kafka-format.log',
        );
      }
      const logFile = startDaemon(paths, 'kafka', 'java', [...jvm, 'kafka.Kafka', props]);
      await waitFor('kafka', answers, 90_000, logFile);
    },
    stop: () => stopDaemon(paths.run, 'kafka'),
    /** Every topic the services use, also on a Kafka that was already running. */
    async provision() {
      const kafka = createKafka('stack-admin', cfg);
      await ensureTopics(kafka, ALL_TOPICS, 3);
      const admin = kafka.admin();
      await admin.connect();
      await ensureKafkaAcls(admin).finally(() => admin.disconnect());
    },
    describe: () =>
      `kafka        ${cfg.KAFKA_BROKERS.join(',')} SASL/SCRAM as admin|order|payment|notification, ACLs per service (topics ${ALL_TOPICS.join(', ')})`,
  };
}
