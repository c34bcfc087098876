import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@paystream/common/config';
import { CONSUMER_GROUPS, TOPICS, type PaymentEvent } from '@paystream/common/events';
import { createKafka } from '@paystream/common/kafka';
import { dataConverterFor } from '@paystream/common/payload-codec';
import { createStripe, type Stripe } from '@paystream/common/stripe';
import { createWorkflowClient } from '@paystream/common/temporal';
import { Connection, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { paymentWorkflowId } from '@paystream/workflows';
import {
  cfg,
  collectTopic,
  disableWebhookEndpoints,
  eventually,
  mailpitAt,
  uniqueEmail,
  verifyByMail,
} from '../support';
import { MailpitServer } from '../support/mailpit-server';
import { startServices, type ServiceSet } from '../support/services';
import { startStripeFaultProxy, type FaultProxy } from '../support/stripe-proxy';
import type { ServiceName } from '../../scripts/services';

/**
 * Drives orders through the real system while a fault is injected, then checks what the people who run
 * it care about: no order lost, no card charged twice, every customer told exactly once (or the
 * notification parked on the DLQ).
 */
const SMTP_PORT = 18491;
const MAIL_API_PORT = 18492;
const SERVICES_BASE_PORT = 18280;

export interface ScenarioResult {
  scenario: string;
  orders: number;
  paid: number;
  failed: number;
  lost: number;
  doubleCharged: number;
  duplicateEvents: number;
  /** Orders with a succeeded PaymentIntent, and with a succeeded payment.event: both must equal `paid`. */
  chargedOrders: number;
  succeededEventOrders: number;
  emails: number;
  /** Second deliveries of an email already delivered (same Message-ID): at-least-once SMTP, counted. */
  resent: number;
  dlq: number;
  untold: number;
  drainSeconds: number;
  restarts: number;
}

export interface FaultContext {
  services: ServiceSet;
  proxy: FaultProxy;
  mail: ChaosMailpit;
}

/** What a scenario's after-drain step sees: its orders (all final by then) and payment.event so far. */
export interface DrainedContext {
  orderIds: string[];
  events: Awaited<ReturnType<typeof collectTopic>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The SMTP server for chaos runs: its mailbox lives in a file, so it survives being stopped. */
export class ChaosMailpit extends MailpitServer {
  constructor() {
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paystream-chaos-')), 'mail.db');
    super(SMTP_PORT, MAIL_API_PORT, ['--database', db, '--max', '0']);
  }

  /**
   * Distinct emails per order id (the id is in every email's first line), told apart by Message-ID. SMTP
   * cannot be exactly once: a send whose worker dies before Temporal records it is sent again, with the
   * same Message-ID (one per event), so the recipient's mail store keeps one message. `resent` counts
   * those second deliveries; two different emails for one order stay two.
   */
  async emailsPerOrder(): Promise<Map<string, { distinct: number; deliveries: number }>> {
    const ids = new Map<string, { messageIds: Set<string>; deliveries: number }>();
    for (let start = 0; ; start += 500) {
      const res = await fetch(`http://127.0.0.1:${MAIL_API_PORT}/api/v1/messages?start=${start}&limit=500`);
      const page = (await res.json()) as { messages: { Snippet: string; MessageID: string }[] };
      for (const m of page.messages) {
        const id = /order ([0-9a-f-]{36})/.exec(m.Snippet)?.[1];
        if (!id) continue;
        const seen = ids.get(id) ?? { messageIds: new Set<string>(), deliveries: 0 };
        seen.messageIds.add(m.MessageID);
        seen.deliveries++;
        ids.set(id, seen);
      }
      if (page.messages.length < 500)
        return new Map(
          [...ids].map(([order, m]) => [order, { distinct: m.messageIds.size, deliveries: m.deliveries }]),
        );
    }
  }
}

export class ChaosHarness {
  results: ScenarioResult[] = [];
  private restarts = 0;
  private signedInAt = Date.now();
  private stopping = false;

  private constructor(
    readonly services: ServiceSet,
    readonly proxy: FaultProxy,
    readonly mail: ChaosMailpit,
    private orders: PgClient,
    private readonly stripe: Stripe,
    private readonly users: { email: string; password: string; auth: Record<string, string> }[],
  ) {}

  static async setup(userCount = 40): Promise<ChaosHarness> {
    // No merchant endpoint from an earlier suite: each would add a delivery workflow to every order here.
    await disableWebhookEndpoints('');
    const proxy = await startStripeFaultProxy(cfg.STRIPE_API_BASE);
    const mail = new ChaosMailpit();
    await mail.start();
    const services = await startServices(SERVICES_BASE_PORT, {
      GATEWAY_RATE_LIMIT: '1000000',
      SIGNUPS_PER_CLIENT: '1000000',
      SIGNINS_PER_CLIENT: '1000000',
      CARDS_PER_CLIENT: '1000000',
      SETUP_INTENTS_PER_CLIENT: '1000000',
      PASSWORD_RESETS_PER_CLIENT: '1000000',
      ACCESS_TOKEN_SECONDS: '900', // signInAgainIfOld renews them every 8 minutes
      STRIPE_API_BASE: proxy.url,
      SMTP_PORT: String(SMTP_PORT),
      NOTIFY_MAX_ATTEMPTS: '30',
      NOTIFY_INITIAL_INTERVAL_MS: '500',
      NOTIFY_MAX_INTERVAL_MS: '3000',
    });
    const orders = new PgClient({ connectionString: cfg.ORDER_DATABASE_URL });
    await orders.connect();
    orders.on('error', () => undefined); // reconnected per query below when Postgres restarts
    const harness = new ChaosHarness(services, proxy, mail, orders, createStripe(loadConfig()), []);
    await harness.createUsers(userCount);
    harness.supervise();
    return harness;
  }

  /** Like an orchestrator's restart policy: a service that dies is started again. */
  private supervise(): void {
    for (const service of this.services.running) {
      service.child.once('exit', () => {
        if (this.stopping || this.services.get(service.name) !== service) return;
        this.restarts++;
        void this.services.start(service.name).then(
          () => this.supervise(),
          () => undefined,
        );
      });
    }
  }

  async restart(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL', downMs = 1500): Promise<void> {
    const old = this.services.get(name);
    this.stopping = true;
    await this.services.stop(name, signal);
    this.stopping = false;
    await sleep(downMs);
    if (this.services.get(name) === old) await this.services.start(name);
    this.supervise();
  }

  private async gateway(pathname: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.services.url('gateway')}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  private async createUsers(count: number): Promise<void> {
    // Eight at a time: each waits for its verification email (a workflow and an SMTP round trip).
    const one = async () => {
      const email = uniqueEmail('chaos');
      const password = 'chaos monkey password';
      await this.gateway('/users/signup', { email, password, name: 'Chaos' });
      await verifyByMail(this.services.url('gateway'), email, mailpitAt(MAIL_API_PORT));
      const { body } = await this.gateway('/users/signin', { email, password });
      const auth = { authorization: `Bearer ${body.token as string}` };
      const added = await this.gateway('/users/add', { paymentMethodId: 'pm_card_visa' }, auth);
      if (added.status !== 201) throw new Error(`add card: ${added.status} ${JSON.stringify(added.body)}`);
      this.users.push({ email, password, auth });
    };
    for (let i = 0; i < count; i += 8) await Promise.all(Array.from({ length: Math.min(8, count - i) }, one));
  }

  /**
   * Access tokens live 15 minutes and the suite runs longer: a scenario that could outlive the tokens signs
   * everyone in afresh first (40 sign-ins are 40 slow hashes, so not before every scenario).
   */
  private async signInAgainIfOld(): Promise<void> {
    if (Date.now() - this.signedInAt < 8 * 60_000) return;
    this.signedInAt = Date.now();
    for (const user of this.users) {
      const { status, body } = await this.gateway('/users/signin', {
        email: user.email,
        password: user.password,
      });
      if (status !== 200) throw new Error(`signin: ${status} ${JSON.stringify(body)}`);
      user.auth = { authorization: `Bearer ${body.token as string}` };
    }
  }

  /** POST /orders/create until it is accepted; the Idempotency-Key makes every retry the same order. */
  private async placeOrder(key: string, auth: Record<string, string>, amount: number): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const res = await this.gateway(
          '/orders/create',
          { amount, currency: 'usd' },
          { ...auth, 'idempotency-key': key },
        );
        if (res.status === 201 || res.status === 200) return res.body.orderId as string;
        if (res.status < 500) throw new Error(`order refused: ${res.status} ${JSON.stringify(res.body)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('order refused') || Date.now() > deadline) throw err;
      }
      await sleep(250);
    }
  }

  /**
   * Places `orderCount` orders while `fault` runs, drains, then (when given) runs `afterDrain` on the
   * settled orders before everything is counted — so what it does is held to the same rules.
   */
  async scenario(
    name: string,
    orderCount: number,
    fault: (ctx: FaultContext) => Promise<void>,
    afterDrain?: (ctx: DrainedContext) => Promise<void>,
  ): Promise<ScenarioResult> {
    const restartsBefore = this.restarts;
    await this.signInAgainIfOld();
    const events = await collectTopic(TOPICS.paymentEvent, () => true);
    const dlq = await collectTopic(TOPICS.notificationDlq, () => true);
    const orderIds: string[] = [];
    let faultRun: Promise<void> | undefined;
    const ctx: FaultContext = { services: this.services, proxy: this.proxy, mail: this.mail };
    try {
      let next = 0;
      const runKey = randomUUID().slice(0, 8);
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < orderCount) {
            const i = next++;
            // The fault starts once a third of the orders are in.
            if (i === Math.floor(orderCount / 3)) faultRun = fault(ctx);
            const user = this.users[i % this.users.length]!;
            orderIds.push(await this.placeOrder(`chaos-${runKey}-${i}`, user.auth, 1000 + i));
          }
        }),
      );
      await faultRun;
      const drainStarted = Date.now();
      // What is left after the fault drains at a few orders a second here: scale the wait with the run.
      const drainTimeout = Math.max(240_000, orderCount * 600);
      const ids = new Set(orderIds);

      // Every order reaches a final state...
      let pending = orderIds.length;
      try {
        await eventually(
          async () => {
            const { rows } = await this.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1) AND status = 'pending'`,
              [orderIds],
            );
            pending = rows[0]!.n;
            if (pending > 0) throw new Error(`${pending} orders pending`);
          },
          drainTimeout,
          500,
        );
      } catch {
        // counted as lost below
      }
      // ...and every customer is told (an email, or the event parked on the DLQ).
      const dlqOrders = () =>
        new Set(dlq.messages.map((m) => m.key).filter((k): k is string => k !== null && ids.has(k)));
      let emails = new Map<string, { distinct: number; deliveries: number }>();
      try {
        await eventually(
          async () => {
            emails = await this.mail.emailsPerOrder();
            const dead = dlqOrders();
            const untold = orderIds.filter((id) => !emails.has(id) && !dead.has(id)).length;
            if (untold) throw new Error(`${untold} customers not told yet`);
          },
          drainTimeout,
          1000,
        );
      } catch {
        // counted as untold below
      }
      const drainSeconds = (Date.now() - drainStarted) / 1000;
      await afterDrain?.({ orderIds, events });
      await sleep(2000); // late duplicates would arrive now
      emails = await this.mail.emailsPerOrder();

      const { rows } = await this.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM orders WHERE id = ANY($1) GROUP BY status`,
        [orderIds],
      );
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      const charges = await this.succeededIntentsPerOrder(ids);
      const succeededEvents = new Map<string, Set<string>>();
      for (const m of events.messages) {
        if (!m.key || !ids.has(m.key)) continue;
        const e = JSON.parse(m.value) as PaymentEvent;
        if (e.status === 'succeeded')
          succeededEvents.set(e.orderId, (succeededEvents.get(e.orderId) ?? new Set()).add(e.eventId));
      }
      const dead = dlqOrders();
      const result: ScenarioResult = {
        scenario: name,
        orders: orderIds.length,
        paid: byStatus.paid ?? 0,
        failed: byStatus.failed ?? 0,
        lost: byStatus.pending ?? 0,
        doubleCharged: [...charges.values()].filter((n) => n > 1).length,
        duplicateEvents: [...succeededEvents.values()].filter((s) => s.size > 1).length,
        chargedOrders: charges.size,
        succeededEventOrders: succeededEvents.size,
        emails: orderIds.filter((id) => emails.has(id)).length,
        resent: orderIds.reduce(
          (n, id) => n + (emails.get(id)?.deliveries ?? 0) - (emails.get(id)?.distinct ?? 0),
          0,
        ),
        dlq: dead.size,
        untold: orderIds.filter(
          (id) => (emails.get(id)?.distinct ?? 0) + (dead.has(id) && !emails.has(id) ? 1 : 0) !== 1,
        ).length,
        drainSeconds: Math.round(drainSeconds * 10) / 10,
        restarts: this.restarts - restartsBefore,
      };
      (result as ScenarioResult & { charged: number; succeededEvents: number }).charged = charges.size;
      this.results.push(result);
      return Object.assign(result, {
        chargedOrders: charges.size,
        succeededEventOrders: succeededEvents.size,
      });
    } finally {
      await events.stop();
      await dlq.stop();
    }
  }

  /**
   * Succeeded PaymentIntents per order: every intent Stripe created for the order (seen on the wire by
   * the proxy, dropped answers included) is read back from the fake Stripe itself.
   */
  private async succeededIntentsPerOrder(ids: Set<string>): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const orderId of ids) {
      for (const id of this.proxy.intents.get(orderId) ?? []) {
        const pi = await this.stripe.paymentIntents.retrieve(id);
        if (pi.status === 'succeeded') counts.set(orderId, (counts.get(orderId) ?? 0) + 1);
      }
    }
    return counts;
  }

  private temporal?: { connection: Connection; client: Client };

  private async temporalClient(): Promise<Client> {
    if (!this.temporal) {
      const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS });
      this.temporal = {
        connection,
        client: createWorkflowClient(connection, cfg.TEMPORAL_NAMESPACE, dataConverterFor(cfg)),
      };
    }
    return this.temporal.client;
  }

  /**
   * What the namespace's retention does to closed runs: every one of these orders' payment histories is
   * deleted (asynchronously in Temporal: waited for until none describes any more).
   */
  async forgetPayments(orderIds: string[]): Promise<void> {
    const client = await this.temporalClient();
    for (const orderId of orderIds)
      await client.workflowService.deleteWorkflowExecution({
        namespace: cfg.TEMPORAL_NAMESPACE,
        workflowExecution: { workflowId: paymentWorkflowId(orderId) },
      });
    let left = [...orderIds];
    await eventually(
      async () => {
        const still: string[] = [];
        for (const orderId of left)
          await client.workflow
            .getHandle(paymentWorkflowId(orderId))
            .describe()
            .then(
              () => still.push(orderId),
              (err: unknown) => {
                if (!(err instanceof WorkflowNotFoundError)) throw err;
              },
            );
        left = still;
        if (left.length) throw new Error(`${left.length} payment histories not deleted yet`);
      },
      120_000,
      1000,
    );
  }

  /**
   * The payment service's consumer group reads order.create from its first offset again (a reset, expired
   * offsets, a renamed group): the group must be empty to move, so the service is stopped meanwhile.
   */
  async replayOrderCreate(): Promise<void> {
    this.stopping = true;
    await this.services.stop('payment');
    this.stopping = false;
    const admin = createKafka('chaos-admin', cfg).admin();
    await admin.connect();
    try {
      await eventually(
        () =>
          admin.resetOffsets({ groupId: CONSUMER_GROUPS.payment, topic: TOPICS.orderCreate, earliest: true }),
        60_000,
        1000,
      );
    } finally {
      await admin.disconnect();
    }
    await this.services.start('payment');
    this.supervise();
  }

  /** Intents Stripe created per order (seen on the wire by the proxy, whatever their state). */
  intentsCreated(orderId: string): number {
    return this.proxy.intents.get(orderId)?.size ?? 0;
  }

  /** The order service's double-charge alarms so far (its /metrics). */
  async secondChargeAlarms(): Promise<number> {
    const text = await (await fetch(`${this.services.url('order')}/metrics`)).text();
    return Number(/^payment_second_charge_alarms_total (\d+)/m.exec(text)?.[1] ?? 0);
  }

  /** order.create events committed by the order service and not yet published by its relay. */
  async unpublishedOutboxRows(): Promise<number> {
    const { rows } = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
      [],
    );
    return rows[0]!.n;
  }

  /** Queries survive a Postgres restart: a broken connection is replaced. */
  private async query<T extends object>(sql: string, params: unknown[]): Promise<{ rows: T[] }> {
    try {
      return await this.orders.query<T>(sql, params);
    } catch {
      const fresh = new PgClient({ connectionString: cfg.ORDER_DATABASE_URL });
      await fresh.connect();
      fresh.on('error', () => undefined);
      await this.orders.end().catch(() => undefined);
      this.orders = fresh;
      return fresh.query<T>(sql, params);
    }
  }

  table(): string {
    const cols: (keyof ScenarioResult)[] = [
      'scenario',
      'orders',
      'paid',
      'failed',
      'lost',
      'doubleCharged',
      'duplicateEvents',
      'emails',
      'resent',
      'dlq',
      'untold',
      'drainSeconds',
      'restarts',
    ];
    const width = cols.map((c) => Math.max(c.length, ...this.results.map((r) => String(r[c]).length)));
    const line = (values: string[]) => values.map((v, i) => v.padEnd(width[i]!)).join('  ');
    return [
      line(cols),
      line(width.map((w) => '-'.repeat(w))),
      ...this.results.map((r) => line(cols.map((c) => String(r[c])))),
    ].join('\n');
  }

  async teardown(): Promise<void> {
    this.stopping = true;
    await this.services.stopAll();
    await this.proxy.close();
    await this.mail.stop();
    await this.orders.end().catch(() => undefined);
    await this.temporal?.connection.close();
  }
}
