import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@paystream/common/config';
import {
  TOPICS,
  type NotificationDlqEntry,
  type OrderEvent,
  type OrderEventType,
  type PaymentEvent,
} from '@paystream/common/events';
import { createKafka, createProducer } from '@paystream/common/kafka';
import { createLogger } from '@paystream/common/logger';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { createWorkflowClient } from '@paystream/common/temporal';
import { temporalConnectionOptions } from '@paystream/common/temporal-options';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Producer } from 'kafkajs';
import {
  ACCOUNT_EMAIL_WORKFLOW,
  accountEmailStartOptions,
  accountEmailWorkflowId,
  type RetryBudget,
} from '@paystream/workflows';
import { readDlq } from '../src/dlq/read';
import { replayDlq } from '../src/dlq/replay';
import { consumePaymentEvents } from '../src/events/payment-consumer';
import { createMailer } from '../src/email/mailer';
import { createNotificationWorker } from '../src/worker';
import {
  notificationWorkflowId,
  WEBHOOK_WORKFLOW,
  webhookDeliverySignal,
  webhookStartOptions,
  webhookWorkflowId,
  type webhookDeliveryWorkflow,
} from '@paystream/workflows';
import { startNotification } from '../src/start-notification';
import { recordHistory } from '../../../test/support/histories';
import { MailpitServer } from '../../../test/support/mailpit-server';
import { cfg, collectTopic, disableWebhookEndpoints, eventually, mailpit } from '../../../test/support';
import {
  startUserBehindGateway,
  type SignedUpUser,
  type UserBehindGateway,
} from '../../user/test/user-behind-gateway';
import { notificationMetrics } from '../src/metrics';
import { codecKeysFrom } from '@paystream/common/codec-keys';
import { initDataSource } from '@paystream/common/db';
import type { DataSource } from 'typeorm';
import { notificationDataSource } from '../src/db/data-source';
import { SecretBox, WebhookStore } from '../src/webhooks/endpoints';

/**
 * Notifications on the real stack: Kafka, the Temporal dev server and Mailpit. A second Mailpit that the
 * test stops and starts plays the SMTP relay that goes down.
 */
const FLAKY_SMTP = 18391;
const FLAKY_API = 18392;
const kafka = createKafka('notification-test', cfg);
const logger = createLogger('notification-test', 'silent');
/** The workers' logger, as the service's: Temporal's own lines must arrive here, as JSON. */
const workerLines: string[] = [];
const workerLogger = createLogger('notification-worker-test', 'info', {
  write: (l: string) => workerLines.push(l),
});
const healthyQueue = `notify-test-${randomUUID()}`;
const flakyQueue = `notify-flaky-${randomUUID()}`;
const fast: RetryBudget = { maximumAttempts: 20, initialIntervalMs: 300, maximumIntervalMs: 600 };
const MERCHANT = `merchant-${randomUUID().slice(0, 8)}@example.test`;

let connection: Connection;
let client: Client;
let producer: Producer;
const workers: { worker: Worker; run: Promise<void>; close: () => Promise<void> }[] = [];

/** The user service, in-process on the real users database: the notifier looks the recipient up there. */
let users: UserBehindGateway;
let unverified: UserBehindGateway;
let notificationsDb: DataSource;
let webhookStore: WebhookStore;

function paymentEventFor(customer: SignedUpUser, status: PaymentEvent['status'] = 'succeeded'): PaymentEvent {
  return {
    eventId: randomUUID(),
    orderId: randomUUID(),
    userId: customer.id,
    status,
    amount: 2599,
    currency: 'eur',
    ...(status === 'succeeded'
      ? { paymentIntentId: 'pi_123' }
      : { failureReason: 'Card declined (card_declined)' }),
    occurredAt: new Date().toISOString(),
  };
}

const flakySmtp = new MailpitServer(FLAKY_SMTP, FLAKY_API);
const startFlakySmtp = () => flakySmtp.start();
const stopFlakySmtp = () => flakySmtp.stop();
/** Failed send attempts so far, from this process' own /metrics counter (the worker runs in-process). */
const emailFailures = async () => (await notificationMetrics.emailFailures.get()).values[0]?.value ?? 0;

async function startWorker(taskQueue: string, smtpPort: number) {
  const mailer = createMailer(loadConfig({ ...process.env, SMTP_PORT: String(smtpPort) }));
  const { worker, connection: native } = await createNotificationWorker({
    dataConverter: dataConverterFor(cfg),
    connection: temporalConnectionOptions(cfg),
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue,
    logger: workerLogger,
    activities: {
      mailer,
      from: cfg.MAIL_FROM,
      producer,
      userServiceUrl: users.user.url,
      serviceToken: cfg.SERVICE_TOKEN,
      merchantEmail: MERCHANT,
    },
    webhooks: { store: webhookStore, production: false, timeoutMs: 2000, disableAfterSeconds: 3600 },
  });
  const run = worker.run();
  workers.push({
    worker,
    run,
    close: async () => {
      mailer.close();
      await native.close();
    },
  });
}

beforeAll(async () => {
  connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
  client = createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg));
  producer = createProducer(kafka);
  await producer.connect();
  users = await startUserBehindGateway('notification-test', { verified: true });
  unverified = await startUserBehindGateway('notification-test-unverified');
  notificationsDb = await initDataSource(notificationDataSource(cfg.NOTIFICATION_DATABASE_URL));
  webhookStore = new WebhookStore(notificationsDb, new SecretBox(codecKeysFrom(cfg)));
  await startWorker(healthyQueue, cfg.SMTP_PORT);
  await startWorker(flakyQueue, FLAKY_SMTP);
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.worker.shutdown();
  for (const w of workers) {
    await w.run;
    await w.close();
  }
  await stopFlakySmtp();
  await producer.disconnect();
  await connection.close();
  await users?.close();
  await unverified?.close();
  await notificationsDb?.destroy();
});

describe('notifications', () => {
  it("writes Temporal's own log lines through the service's logger, in its JSON format", async () => {
    await eventually(() => {
      const temporal = workerLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.temporal);
      expect(temporal).toContainEqual(
        expect.objectContaining({
          service: 'notification-worker-test',
          msg: 'Worker state changed',
          state: 'RUNNING',
          taskQueue: healthyQueue,
        }),
      );
    });
  });

  it('emails the customer for a paid order, with the amount in their currency', async () => {
    const { email, ...customer } = await users.signedUp('paid');
    const event = paymentEventFor({ email, ...customer });
    expect(await startNotification(client, event, fast, { taskQueue: healthyQueue })).toBe(true);
    const sent = client.workflow.getHandle(notificationWorkflowId(event.eventId));
    const result = (await sent.result()) as { messageId: string };
    await recordHistory(sent, 'notification-sent');
    expect(result.messageId).toBe(`<notify-${event.eventId}@paystream.local>`);
    const [summary] = await eventually(async () => {
      const found = await mailpit.messagesTo(email);
      if (!found.length) throw new Error('no email yet');
      return found;
    });
    expect(summary!.Subject).toBe('Payment received — €25.99');
    expect(summary!.To).toEqual([{ Name: '', Address: email }]);
    const message = await mailpit.message(summary!.ID);
    expect(message.Text).toContain(event.orderId);
    expect(message.HTML).toContain('<strong>€25.99</strong>');
    // The same event again (a redelivery) starts nothing new.
    expect(await startNotification(client, event, fast, { taskQueue: healthyQueue })).toBe(false);
  });

  it('retries while SMTP is down and sends exactly one email once it is back, with no DLQ entry', async () => {
    await stopFlakySmtp();
    const { email, ...customer } = await users.signedUp('transient');
    const event = paymentEventFor({ email, ...customer }, 'failed');
    const dlq = await collectTopic(TOPICS.notificationDlq, (k) => k === event.orderId);
    try {
      await startNotification(client, event, fast, { taskQueue: flakyQueue });
      const handle = client.workflow.getHandle(notificationWorkflowId(event.eventId));
      // Wait until Temporal has really retried the failing send a few times.
      const failuresBefore = await emailFailures();
      await eventually(async () => {
        const failed = (await emailFailures()) - failuresBefore;
        if (failed < 3) throw new Error(`${failed} failed attempts so far`);
      });
      await startFlakySmtp();
      await handle.result();
      await recordHistory(handle, 'notification-retried');
      const messages = await flakySmtp.api.messagesTo(email);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.Subject).toBe('Payment failed — €25.99');
      await new Promise((r) => setTimeout(r, 1500));
      expect(dlq.messages).toHaveLength(0);
    } finally {
      await dlq.stop();
    }
  });

  it('dead-letters after the retry budget, and a replay sends the email exactly once', async () => {
    await stopFlakySmtp();
    const { email, ...customer } = await users.signedUp('permanent');
    const event = paymentEventFor({ email, ...customer });
    const budget: RetryBudget = { maximumAttempts: 3, initialIntervalMs: 200, maximumIntervalMs: 400 };
    const dlq = await collectTopic(TOPICS.notificationDlq, (k) => k === event.orderId);
    try {
      await startNotification(client, event, budget, { taskQueue: flakyQueue });
      const deadLettered = client.workflow.getHandle(notificationWorkflowId(event.eventId));
      await expect(deadLettered.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      await recordHistory(deadLettered, 'notification-dead-lettered');
      const [entry] = await dlq.waitFor(1, 20_000, 1000);
      expect(dlq.messages).toHaveLength(1);
      const dead = JSON.parse(entry!.value) as NotificationDlqEntry;
      expect(dead).toMatchObject({
        original: event,
        attempts: 3,
        error: expect.stringMatching(/^SMTP: .*ECONNREFUSED/),
      });

      // The operator brings SMTP back and replays that order's entry: one email.
      await startFlakySmtp();
      const records = await readDlq(kafka);
      const first = await replayDlq(client, records, fast, { orderId: event.orderId }, flakyQueue);
      expect(first.map((o) => o.outcome)).toEqual(['replayed']);
      await client.workflow.getHandle(notificationWorkflowId(event.eventId)).result();
      expect(await flakySmtp.api.messagesTo(email)).toHaveLength(1);

      // Replaying again sends nothing new.
      const second = await replayDlq(
        client,
        await readDlq(kafka),
        fast,
        { orderId: event.orderId },
        flakyQueue,
      );
      expect(second.map((o) => o.outcome)).toEqual(['skipped: already sent or running']);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await flakySmtp.api.messagesTo(email)).toHaveLength(1);
    } finally {
      await dlq.stop();
    }
  });

  it('puts a malformed payment.event on the DLQ and keeps consuming', async () => {
    const groupId = `notification-test-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    const joined = new Promise((r) => consumer.on(consumer.events.GROUP_JOIN, r));
    const badKey = randomUUID();
    const { email, ...customer } = await users.signedUp('after-bad');
    const good = paymentEventFor({ email, ...customer });
    const dlq = await collectTopic(TOPICS.notificationDlq, (k) => k === badKey);
    await consumePaymentEvents({
      consumer,
      producer,
      client,
      logger,
      retry: fast,
      taskQueue: healthyQueue,
      groupId,
      fromBeginning: false,
    });
    try {
      await joined;
      await new Promise((r) => setTimeout(r, 1000));
      await producer.send({
        topic: TOPICS.paymentEvent,
        messages: [
          { key: badKey, value: JSON.stringify({ ...good, amount: -5, eventId: 'nope' }) },
          { key: good.orderId, value: JSON.stringify(good) },
        ],
      });
      const [entry] = await dlq.waitFor(1);
      const dead = JSON.parse(entry!.value) as NotificationDlqEntry;
      expect(dead.attempts).toBe(0);
      expect(dead.error).toMatch(/^validation: .*eventId/);
      expect(dead.error).toMatch(/amount/);
      await eventually(async () => {
        if ((await mailpit.messagesTo(email)).length !== 1) throw new Error('no email for the next message');
      }, 20_000);
    } finally {
      await consumer.disconnect();
      await dlq.stop();
    }
  });

  it('tells the merchant, not the customer, what they must act on: an authorization about to lapse, a dispute', async () => {
    const { email, ...customer } = await users.signedUp('disputing');
    const expiring: PaymentEvent = {
      ...paymentEventFor({ email, ...customer }, 'authorized'),
      status: 'authorization_expiring',
      authorizationExpiresAt: '2026-12-13T10:00:00.000Z',
    };
    const disputed: PaymentEvent = {
      ...paymentEventFor({ email, ...customer }),
      status: 'disputed',
      dispute: {
        id: 'dp_123',
        status: 'needs_response',
        reason: 'fraudulent',
        amount: 2599,
        evidenceDueBy: '2026-12-20T23:59:59.000Z',
      },
    };
    for (const event of [expiring, disputed]) {
      expect(await startNotification(client, event, fast, { taskQueue: healthyQueue })).toBe(true);
      await client.workflow.getHandle(notificationWorkflowId(event.eventId)).result();
    }
    const subjects = (await mailpit.messagesTo(MERCHANT)).map((m) => m.Subject).sort();
    expect(subjects).toEqual([
      `Authorization of €25.99 lapses soon — order ${expiring.orderId}`,
      `Dispute opened: €25.99 on order ${disputed.orderId} — evidence due 2026-12-20`,
    ]);
    expect(await mailpit.messagesTo(email)).toEqual([]);
  });

  it('sends an account email once per request id, with its link, to the address the user service holds', async () => {
    const { email, id: userId } = await users.signedUp('account-mail');
    const request = {
      id: randomUUID().replaceAll('-', ''),
      kind: 'reset_password' as const,
      userId,
      link: `https://shop.example/demo#reset=${'x'.repeat(43)}`,
    };
    const start = () =>
      client.workflow
        .start(ACCOUNT_EMAIL_WORKFLOW, accountEmailStartOptions(request, fast, healthyQueue))
        .then(
          () => true,
          () => false,
        );
    expect(await start()).toBe(true);
    const handle = client.workflow.getHandle(accountEmailWorkflowId(request.id));
    expect(await handle.result()).toEqual({ messageId: `<account-${request.id}@paystream.local>` });
    await recordHistory(handle, 'account-email-sent');
    expect(await start()).toBe(false); // the same request again: no second email
    const [mail] = (await mailpit.messagesTo(email)).filter((m) => m.Subject === 'Reset your password');
    expect((await mailpit.message(mail!.ID)).Text).toContain(request.link);
  });

  it('sends no payment email to an address nobody verified, and counts it', async () => {
    const skipped = async () =>
      (await notificationMetrics.emailsSkipped.get()).values.find((v) => v.labels.reason === 'unverified')
        ?.value ?? 0;
    const before = await skipped();
    const { email, auth, ...rest } = await unverified.signedUp('unverified');
    const event = paymentEventFor({ email, auth, ...rest });
    expect(await startNotification(client, event, fast, { taskQueue: healthyQueue })).toBe(true);
    const result = (await client.workflow.getHandle(notificationWorkflowId(event.eventId)).result()) as {
      messageId: string;
    };
    expect(result.messageId).toBe('');
    expect(await skipped()).toBe(before + 1);
    expect(await mailpit.messagesTo(email)).toEqual([]);
  });
});

describe("the merchant's webhooks", () => {
  /** A merchant's receiver answering each delivery with the next status of `answers` (then 204). */
  async function receiver(answers: number[]) {
    const got: { id: string; type: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const status = answers.shift() ?? 204;
        if (status < 300)
          got.push({
            id: String(req.headers['webhook-id']),
            type: (JSON.parse(body) as { type: string }).type,
          });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    receivers.push(url);
    return { url, got, server };
  }
  // Their endpoints are disabled once the suite ends: left enabled, every later suite's orders would start
  // deliveries to a receiver that is gone, retried for days (the chaos suite's drains doubled).
  const receivers: string[] = [];
  afterAll(async () => {
    for (const url of receivers) await disableWebhookEndpoints(url);
  });

  const orderEventOf = (orderId: string, type: OrderEventType, status: string): OrderEvent => ({
    eventId: randomUUID(),
    type,
    orderId,
    userId: randomUUID(),
    status,
    amount: 2599,
    currency: 'eur',
    refundedAmount: type === 'order.refunded' ? 2599 : 0,
    occurredAt: new Date().toISOString(),
  });

  /** What the order.event consumer does for one endpoint: a delivery, signalled to the order's workflow. */
  async function queue(endpointId: string, event: OrderEvent) {
    const deliveryId = await webhookStore.enqueue(endpointId, event);
    await client.workflow.signalWithStart<typeof webhookDeliveryWorkflow, [{ deliveryId: string }]>(
      WEBHOOK_WORKFLOW,
      {
        ...webhookStartOptions(
          {
            endpointId,
            orderId: event.orderId,
            retry: { initialIntervalMs: 200, maximumIntervalMs: 400, totalSeconds: 60 },
            idleSeconds: 1,
          },
          healthyQueue,
        ),
        signal: webhookDeliverySignal,
        signalArgs: [{ deliveryId }],
      },
    );
    return deliveryId;
  }

  it("sends an order's events in the order they happened, through a receiver's refusals, each attempt logged", async () => {
    const merchant = await receiver([500, 503]);
    try {
      const { endpoint } = await webhookStore.createEndpoint({
        url: merchant.url,
        eventTypes: ['order.paid', 'order.refunded'],
      });
      const orderId = randomUUID();
      const paid = orderEventOf(orderId, 'order.paid', 'paid');
      const refunded = orderEventOf(orderId, 'order.refunded', 'refunded');
      const ids = [await queue(endpoint.id, paid), await queue(endpoint.id, refunded)];
      const handle = client.workflow.getHandle(webhookWorkflowId(endpoint.id, orderId));
      await handle.result(); // done once idle
      expect(merchant.got).toEqual([
        { id: paid.eventId, type: 'order.paid' },
        { id: refunded.eventId, type: 'order.refunded' },
      ]);
      const log = await webhookStore.deliveries({ endpointId: endpoint.id, limit: 10 });
      expect(log.map((d) => [d.id, d.status, d.attemptLog.length]).sort()).toEqual(
        [
          [ids[0], 'delivered', 3],
          [ids[1], 'delivered', 1],
        ].sort(),
      );
      await recordHistory(handle, 'webhooks-delivered');
    } finally {
      merchant.server.close();
    }
  });

  it('skips what waits for an endpoint an operator disabled, and goes on with the next', async () => {
    const merchant = await receiver(Array.from({ length: 1000 }, () => 500));
    try {
      const { endpoint } = await webhookStore.createEndpoint({
        url: merchant.url,
        eventTypes: ['order.paid'],
      });
      const orderId = randomUUID();
      const first = await queue(endpoint.id, orderEventOf(orderId, 'order.paid', 'paid'));
      await eventually(async () => expect((await webhookStore.delivery(first))?.attempts).toBeGreaterThan(1));
      await webhookStore.setStatus(endpoint.id, 'disabled', 'the merchant asked');
      const handle = client.workflow.getHandle(webhookWorkflowId(endpoint.id, orderId));
      await handle.result();
      expect((await webhookStore.delivery(first))?.status).toBe('skipped');
      expect(merchant.got).toEqual([]);
      await recordHistory(handle, 'webhooks-skipped');
    } finally {
      merchant.server.close();
    }
  });
});
