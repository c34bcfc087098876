import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createWorkflowClient, inSpan, tracing } from '@paystream/common';
import type { Client } from '@temporalio/client';
import { eventually, temporalBinaryPath } from '../../test/support';
import { recordHistory } from '../../test/support/histories';
import type { PaymentEvent } from '@paystream/common';
import type { PaymentActivities, PaymentInput } from '../src/payment-activities';
import { PAYMENT_ERRORS } from '../src/payment-activities';
import { paymentWorkflow } from '../src/payment';
import { ORDER_ID, USER_ID } from '../src/search-attributes';
import { tracingWorkerOptions } from '../src/worker-tracing';

/**
 * The payment workflow's logic on a real Temporal dev server (started by @temporalio/testing from the
 * built CLI), with its activities stubbed — the only place they are. `RECORD_HISTORIES=1` writes each
 * run's history under test/histories for the replay test.
 */
const TASK_QUEUE = 'payment-workflow-test';

let env: TestWorkflowEnvironment;
let client: Client; // traced, like the payment service's
const spans = new InMemorySpanExporter();
let worker: Worker;
let running: Promise<void>;

const { EventType } = temporal.api.enums.v1;

/** A marker's recorded payloads as text (a local activity's result is JSON in them). */
function markerText(event: temporal.api.history.v1.IHistoryEvent): string {
  const details = event.markerRecordedEventAttributes?.details ?? {};
  return Object.values(details)
    .flatMap((p) => p.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? []).toString('utf8'))
    .join('\n');
}

type Stubs = Partial<PaymentActivities>;
const scenarios = new Map<string, Stubs>();
const calls = new Map<string, string[]>();
const published = new Map<string, PaymentEvent[]>();

const DETAILS = {
  email: 'ada@example.test',
  name: 'Ada',
  expMonth: 12,
  expYear: 2030,
  stripeCustomerId: 'cus_test',
  paymentMethodId: 'pm_test',
  brand: 'visa',
  last4: '4242',
};

/** Default behaviour: everything works. A scenario overrides single activities. */
function activities(): PaymentActivities {
  const current = () => {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    calls.set(workflowId, [...(calls.get(workflowId) ?? []), Context.current().info.activityType]);
    return { workflowId, stubs: scenarios.get(workflowId) ?? {} };
  };
  return {
    getPaymentDetails: (userId) => {
      const { stubs } = current();
      return stubs.getPaymentDetails?.(userId) ?? Promise.resolve({ userId, ...DETAILS });
    },
    createPaymentIntent: (input) => {
      const { stubs } = current();
      return stubs.createPaymentIntent?.(input) ?? Promise.resolve(`pi_${input.orderId.slice(0, 8)}`);
    },
    confirmPaymentIntent: (id) => {
      const { stubs } = current();
      return stubs.confirmPaymentIntent?.(id) ?? Promise.resolve({ status: 'succeeded' as const });
    },
    publishPaymentEvent: (event) => {
      const { workflowId } = current();
      published.set(workflowId, [...(published.get(workflowId) ?? []), event]);
      return Promise.resolve();
    },
  };
}

async function run(name: string, stubs: Stubs, traced = false) {
  const order: PaymentInput = {
    eventId: randomUUID(),
    orderId: randomUUID(),
    userId: randomUUID(),
    amount: 4200,
    currency: 'eur',
    createdAt: new Date().toISOString(),
  };
  const workflowId = `payment-${order.orderId}`;
  scenarios.set(workflowId, stubs);
  const start = () =>
    client.workflow.start(paymentWorkflow, { workflowId, taskQueue: TASK_QUEUE, args: [order] });
  const handle = traced ? await inSpan('order.create process', {}, start) : await start();
  const result = await handle.result();
  await recordHistory(handle, `payment-${name}`);
  return {
    order,
    result,
    calls: calls.get(workflowId) ?? [],
    events: published.get(workflowId) ?? [],
    handle,
  };
}

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinaryPath() },
      ip: '127.0.0.1',
      searchAttributes: [ORDER_ID, USER_ID],
    },
  });
  tracing().addSpanProcessor(new SimpleSpanProcessor(spans));
  client = createWorkflowClient(env.connection, env.namespace ?? 'default');
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('../src/payment'),
    activities: activities(),
    ...tracingWorkerOptions(tracing()),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

describe('paymentWorkflow', () => {
  it('charges, publishes one succeeded event and is findable by order id', async () => {
    const { order, result, calls, events, handle } = await run('succeeded', {});
    expect(result).toEqual({ status: 'succeeded', paymentIntentId: `pi_${order.orderId.slice(0, 8)}` });
    expect(calls).toEqual([
      'getPaymentDetails',
      'createPaymentIntent',
      'confirmPaymentIntent',
      'publishPaymentEvent',
    ]);
    expect(events).toEqual([
      expect.objectContaining({
        orderId: order.orderId,
        userId: order.userId,
        status: 'succeeded',
        amount: 4200,
        currency: 'eur',
        email: DETAILS.email,
        paymentIntentId: result.paymentIntentId,
      }),
    ]);
    // Local activities but the confirm: markers in two workflow tasks, one activity task round trip.
    const { events: history } = await handle.fetchHistory();
    const count = (type: temporal.api.enums.v1.EventType) =>
      history?.filter((e) => e.eventType === type).length;
    expect(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(1);
    expect(count(EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(5); // 2 patch markers + 3 local calls
    expect(count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(2);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(ORDER_ID)).toBe(order.orderId);
    expect(described.typedSearchAttributes.get(USER_ID)).toBe(order.userId);
  });

  it('has the intent id in history before the confirm runs, so a replay after a crash confirms that intent', async () => {
    // What the confirm sees in history when it runs. Were the id only in the worker's memory, a worker
    // killed after the charge would replay into a second createPaymentIntent and a second charge.
    let seen: { intentId: string; inHistory: boolean } | undefined;
    const { result } = await run('intent-recorded', {
      confirmPaymentIntent: async (intentId) => {
        const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
        const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
        const recorded = (events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
        seen = { intentId, inHistory: recorded.some((e) => markerText(e).includes(intentId)) };
        return { status: 'succeeded' };
      },
    });
    expect(result.status).toBe('succeeded');
    expect(seen).toEqual({ intentId: result.paymentIntentId, inHistory: true });
  });

  it('ends failed with the decline reason, without retrying the decline', async () => {
    const { result, calls, events } = await run('declined', {
      confirmPaymentIntent: () =>
        Promise.reject(
          ApplicationFailure.nonRetryable('Card declined (card_declined)', PAYMENT_ERRORS.cardDeclined),
        ),
    });
    expect(result).toMatchObject({ status: 'failed', failureReason: 'Card declined (card_declined)' });
    expect(calls.filter((c) => c === 'confirmPaymentIntent')).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 'failed', failureReason: 'Card declined (card_declined)' });
  });

  it('retries a flaky Stripe call with backoff and then succeeds', async () => {
    let attempts = 0;
    const { result, calls, events } = await run('retried', {
      createPaymentIntent: (input) =>
        ++attempts < 3
          ? Promise.reject(new Error('ECONNRESET'))
          : Promise.resolve(`pi_${input.orderId.slice(0, 8)}`),
    });
    expect(result.status).toBe('succeeded');
    expect(calls.filter((c) => c === 'createPaymentIntent')).toHaveLength(3);
    expect(events.map((e) => e.status)).toEqual(['succeeded']);
  });

  it('fails without touching Stripe when the user has no card', async () => {
    const { result, calls, events } = await run('details-missing', {
      getPaymentDetails: () =>
        Promise.reject(
          ApplicationFailure.nonRetryable('No payment method on file', PAYMENT_ERRORS.detailsMissing),
        ),
    });
    expect(result).toEqual({ status: 'failed', failureReason: 'No payment method on file' });
    expect(calls).toEqual(['getPaymentDetails', 'publishPaymentEvent']);
    expect(events[0]).not.toHaveProperty('email');
  });

  it("continues the starter's trace through the workflow into every activity (in-memory exporter)", async () => {
    const { handle } = await run('traced', {}, true);
    const root = spans.getFinishedSpans().find((sp) => sp.name === 'order.create process');
    expect(root).toBeDefined();
    const traceId = root!.spanContext().traceId;
    const names = await eventually(() => {
      const inTrace = spans.getFinishedSpans().filter((sp) => sp.spanContext().traceId === traceId);
      const found = inTrace.map((sp) => sp.name);
      if (
        !found.includes('RunActivity:publishPaymentEvent') ||
        !found.includes('RunWorkflow:paymentWorkflow')
      )
        throw new Error(`so far: ${found.join(', ')}`);
      return found;
    });
    expect(names).toEqual(
      expect.arrayContaining([
        'order.create process',
        'StartWorkflow:paymentWorkflow',
        'RunWorkflow:paymentWorkflow',
        ...[
          'getPaymentDetails',
          'createPaymentIntent',
          'confirmPaymentIntent',
          'publishPaymentEvent',
        ].flatMap((a) => [`StartActivity:${a}`, `RunActivity:${a}`]),
      ]),
    );
    // Every span's parent is in the same trace: the workflow and activities hang under the starter.
    const inTrace = spans.getFinishedSpans().filter((sp) => sp.spanContext().traceId === traceId);
    const ids = new Set(inTrace.map((sp) => sp.spanContext().spanId));
    expect(inTrace.filter((sp) => sp.parentSpanId && !ids.has(sp.parentSpanId)).map((sp) => sp.name)).toEqual(
      [],
    );
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });
  });
});
