/** Helpers for tests that talk to the real local stack. Nothing here fakes a server. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@paystream/common/config';
import { closeServer } from '@paystream/common/http';
import { createKafka } from '@paystream/common/kafka';
import type { Express } from 'express';
import type { Consumer, KafkaMessage } from 'kafkajs';

export const cfg = loadConfig();
export { mailpitBinaryPath, temporalBinaryPath } from '../../stack';

export interface RunningApp {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

/** Serves an Express app on a free loopback port, for real HTTP requests in tests. */
export async function serve(app: Express): Promise<RunningApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, close: () => closeServer(server) };
}

/** Retries `fn` until it stops throwing or the deadline passes; returns its last value. */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
}

// ---------------------------------------------------------------- Mailpit (SMTP server with an API)

export interface MailpitAddress {
  Name: string;
  Address: string;
}
export interface MailpitSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  To: MailpitAddress[];
  From: MailpitAddress;
  Snippet: string;
}
export interface MailpitMessage extends MailpitSummary {
  Text: string;
  HTML: string;
}

/** A Mailpit's REST API: the stack's, or another one a test runs. */
export function mailpitAt(apiPort: number) {
  const mailApi = `http://127.0.0.1:${apiPort}/api/v1`;
  return {
    /** Messages whose recipient is `to` (Mailpit search syntax). */
    async messagesTo(to: string): Promise<MailpitSummary[]> {
      const res = await fetch(`${mailApi}/search?query=${encodeURIComponent(`to:"${to}"`)}&limit=200`);
      if (!res.ok) throw new Error(`mailpit search: HTTP ${res.status}`);
      const body = (await res.json()) as { messages: MailpitSummary[] };
      return body.messages;
    },
    async remove(id: string): Promise<void> {
      const res = await fetch(`${mailApi}/messages`, {
        method: 'DELETE',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ IDs: [id] }),
      });
      if (!res.ok) throw new Error(`mailpit delete: HTTP ${res.status}`);
    },
    async message(id: string): Promise<MailpitMessage> {
      const res = await fetch(`${mailApi}/message/${id}`);
      if (!res.ok) throw new Error(`mailpit message: HTTP ${res.status}`);
      return (await res.json()) as MailpitMessage;
    },
  };
}

export const mailpit = mailpitAt(cfg.MAIL_API_PORT);

/**
 * Verifies a new account's address as its owner does: the verification email is read from Mailpit (it came
 * through the notification service) and its link's token posted to the gateway. Payment emails need it.
 */
export async function verifyByMail(
  gatewayUrl: string,
  email: string,
  inbox: ReturnType<typeof mailpitAt> = mailpit,
): Promise<void> {
  const token = await eventually(async () => {
    const [found] = (await inbox.messagesTo(email)).filter((m) => m.Subject === 'Confirm your email address');
    if (!found) throw new Error(`no verification email to ${email} yet`);
    const match = /#verify=([\w-]{43})/.exec((await inbox.message(found.ID)).Text);
    if (!match) throw new Error('verification email without a link');
    // Read and binned, as its owner would: the tests count the payment emails an inbox holds.
    await inbox.remove(found.ID);
    return match[1]!;
  }, 30_000);
  const res = await fetch(`${gatewayUrl}/users/verify-email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 204) throw new Error(`verify-email: HTTP ${res.status} ${await res.text()}`);
}

// ---------------------------------------------------------------- Kafka

export interface CollectedMessage {
  key: string | null;
  value: string;
  headers: KafkaMessage['headers'];
  partition: number;
}

/**
 * Reads a topic from the beginning with a throw-away consumer group and keeps every message whose
 * key matches; a test then asserts on exactly what arrived on the broker.
 */
export async function collectTopic(topic: string, keyFilter: (key: string | null) => boolean) {
  const kafka = createKafka(`test-${randomUUID().slice(0, 8)}`, cfg);
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, sessionTimeout: 10_000 });
  const messages: CollectedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const key = message.key?.toString('utf8') ?? null;
      if (keyFilter(key)) {
        messages.push({
          key,
          value: message.value?.toString('utf8') ?? '',
          headers: message.headers,
          partition,
        });
      }
      return Promise.resolve();
    },
  });
  return {
    messages,
    /** Waits until `count` matching messages arrived (then a short grace period to catch extras). */
    async waitFor(count: number, timeoutMs = 20_000, graceMs = 0): Promise<CollectedMessage[]> {
      await eventually(() => {
        if (messages.length < count) throw new Error(`${topic}: ${messages.length}/${count} messages`);
      }, timeoutMs);
      if (graceMs) await new Promise((r) => setTimeout(r, graceMs));
      return messages;
    },
    stop: () => consumer.disconnect(),
  };
}

/**
 * Disables the webhook endpoints a suite registered (by where they point): left enabled, they would be sent every
 * later suite's order events, to a receiver that is gone.
 */
export async function disableWebhookEndpoints(urlPrefix: string): Promise<void> {
  const { Client } = await import('pg');
  const db = new Client({ connectionString: cfg.NOTIFICATION_DATABASE_URL });
  await db.connect();
  try {
    await db.query(
      `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = 'test suite ended'
         WHERE status = 'enabled' AND url LIKE $1 || '%'`,
      [urlPrefix],
    );
  } finally {
    await db.end();
  }
}
