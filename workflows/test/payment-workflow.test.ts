import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { codecKeysFrom } from '@paystream/common/codec-keys';
import { loadConfig } from '@paystream/common/config';
import { AesGcmPayloadCodec, dataConverterFor } from '@paystream/common/payload-codec';
import { createWorkflowClient } from '@paystream/common/temporal';
import { inSpan, tracing } from '@paystream/common/tracing';
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { eventually, temporalBinaryPath } from '../../test/support';
import { recordHistory } from '../../test/support/histories';
import {
  cancelPaymentUpdate,
  captureUpdate,
  voidUpdate,
  VOID_UPDATE_ID,
  paymentStartOptions,
  stripeEventSignal,
  type PaymentInput,
  type PaymentOptions,
} from '../src/api/payment';
import { refundsStartOptions, refundUpdate } from '../src/api/refunds';
import { disputeStartOptions } from '../src/api/disputes';
import { ORDER_ID, USER_ID } from '../src/api/search-attributes';
import type { PaymentActivities, PaymentEventDraft, RefundLedger } from '../src/payment-activities';
import { PAYMENT_ERRORS } from '../src/payment-activities';
import { paymentWorkflow } from '../src/payment';
import { refundsWorkflow } from '../src/refunds';
import { disputeWorkflow } from '../src/disputes';
import { tracingWorkerOptions } from '../src/worker-tracing';

/**
 * The payment workflow's logic on a real Temporal dev server (started by @temporalio/testing from the
 * built CLI), with its activities stubbed — the only place they are. `RECORD_HISTORIES=1` writes each
 * run's history under test/histories for the replay test.
 */
const TASK_QUEUE = 'payment-workflow-test';
/** Payloads encrypted as the services encrypt them: the recorded histories hold ciphertext. */
const dataConverter = dataConverterFor(loadConfig());

let env: TestWorkflowEnvironment;
let client: Client; // traced, like the payment service's
const spans = new InMemorySpanExporter();
let worker: Worker;
let running: Promise<void>;

const { EventType } = temporal.api.enums.v1;

/** A marker's recorded payloads as text, decrypted (a local activity's result is JSON in them). */
async function markerText(event: temporal.api.history.v1.IHistoryEvent): Promise<string> {
  const details = event.markerRecordedEventAttributes?.details ?? {};
  const sealed = Object.values(details).flatMap((p) => p.payloads ?? []);
  const plain = await new AesGcmPayloadCodec(codecKeysFrom(loadConfig())).decode(sealed);
  return plain.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
}

type Stubs = Partial<PaymentActivities>;
const scenarios = new Map<string, Stubs>();
const calls = new Map<string, string[]>();
const published = new Map<string, PaymentEventDraft[]>();

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
    claimPayment: (order) => {
      const { stubs } = current();
      return stubs.claimPayment?.(order) ?? Promise.resolve({ state: 'new' as const });
    },
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
    getPaymentIntentState: (id) => {
      const { stubs } = current();
      return stubs.getPaymentIntentState?.(id) ?? Promise.resolve({ status: 'succeeded' as const });
    },
    cancelPaymentIntent: (id) => {
      const { stubs } = current();
      return (
        stubs.cancelPaymentIntent?.(id) ??
        Promise.resolve({ status: 'failed' as const, failureReason: 'Payment was canceled' })
      );
    },
    publishPaymentEvent: (event) => {
      const { workflowId } = current();
      published.set(workflowId, [...(published.get(workflowId) ?? []), event]);
      return Promise.resolve();
    },
    capturePaymentIntent: (input) => {
      const { stubs } = current();
      const amount = input.amount ?? 4200;
      return (
        stubs.capturePaymentIntent?.(input) ??
        Promise.resolve({ capturedAmount: amount, releasedAmount: 4200 - amount })
      );
    },
    getRefundLedger: (intentId) => {
      current();
      return Promise.resolve(stripeLedger(intentId));
    },
    getDispute: (disputeId) => {
      const { stubs } = current();
      if (!stubs.getDispute) throw new Error(`no dispute ${disputeId} in this scenario`);
      return stubs.getDispute(disputeId);
    },
    createRefund: (input) => {
      current();
      const ledger = stripeLedger(input.paymentIntentId);
      const refund = {
        id: `re_${ledger.refunds.length + 1}`,
        amount: input.amount,
        created: ledger.refunds.length,
      };
      ledger.refunds.push({ ...refund, requestKey: input.requestKey });
      return Promise.resolve(refund.id);
    },
  };
}

/** Stripe's refunds per PaymentIntent, as the stubbed activities keep them (4200 eur paid). */
const ledgers = new Map<string, RefundLedger>();
function stripeLedger(intentId: string): RefundLedger {
  const ledger = ledgers.get(intentId) ?? { amount: 4200, currency: 'eur', userId: USER, refunds: [] };
  ledgers.set(intentId, ledger);
  return ledger;
}
const USER = randomUUID();

interface RunOptions {
  traced?: boolean;
  /** Fields of the order.create event (e.g. `captureMethod: 'manual'`). */
  order?: Partial<PaymentInput>;
  options?: PaymentOptions;
  /** Runs while the workflow does (e.g. plays Stripe's webhooks as signals). */
  during?: (handle: WorkflowHandle<typeof paymentWorkflow>, workflowId: string) => Promise<void>;
}

/** A new order.create event, as the payment workflow receives it (4200 eur). */
const newOrder = (): PaymentInput => ({
  eventId: randomUUID(),
  orderId: randomUUID(),
  userId: randomUUID(),
  amount: 4200,
  currency: 'eur',
  createdAt: new Date().toISOString(),
});

async function run(
  name: string,
  stubs: Stubs,
  { traced = false, options, during, order: fields }: RunOptions = {},
) {
  const order = { ...newOrder(), ...fields };
  const workflowId = `payment-${order.orderId}`;
  scenarios.set(workflowId, stubs);
  // As the payment service starts it: the search attributes and memo come with the start.
  const start = () =>
    client.workflow.start(paymentWorkflow, paymentStartOptions(order, options ?? {}, TASK_QUEUE));
  const handle = traced ? await inSpan('order.create process', {}, start) : await start();
  await during?.(handle, workflowId);
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
  client = createWorkflowClient(env.connection, env.namespace ?? 'default', dataConverter);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('../src/payment'),
    dataConverter,
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
      'claimPayment',
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
        paymentIntentId: result.paymentIntentId,
      }),
    ]);
    // Nothing that names the customer or the card leaves the workflow (history, Kafka).
    expect(events[0]).not.toHaveProperty('email');
    // Local activities but the confirm: markers in two workflow tasks, one activity task round trip.
    const { events: history } = await handle.fetchHistory();
    const count = (type: temporal.api.enums.v1.EventType) =>
      history?.filter((e) => e.eventType === type).length;
    expect(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(1);
    expect(count(EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(4); // the 4 local calls, nothing else
    // Search attributes and memo came with the start: no upsert in the history.
    expect(count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)).toBe(0);
    expect(count(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)).toBe(0);
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
        const texts = await Promise.all(recorded.map(markerText));
        seen = { intentId, inHistory: texts.some((text) => text.includes(intentId)) };
        return { status: 'succeeded' };
      },
    });
    expect(result.status).toBe('succeeded');
    expect(seen).toEqual({ intentId: result.paymentIntentId, inHistory: true });
  });

  it('a payment the ledger holds as settled charges nothing and publishes its first event again, marked replayed', async () => {
    // Temporal forgot the order (retention) and order.create came again: the ledger's claim is the gate.
    const eventId = randomUUID();
    const { result, calls, events } = await run('ledger-settled-replayed', {
      claimPayment: () =>
        Promise.resolve({
          state: 'settled',
          status: 'succeeded',
          paymentIntentId: 'pi_first',
          announced: true,
          eventId,
        }),
    });
    expect(result).toEqual({ status: 'succeeded', paymentIntentId: 'pi_first' });
    expect(calls).toEqual(['claimPayment', 'publishPaymentEvent']);
    expect(events).toEqual([
      expect.objectContaining({ status: 'succeeded', paymentIntentId: 'pi_first', eventId, replayed: true }),
    ]);
  });

  it('an intent the ledger already holds is confirmed, and no second one is created', async () => {
    const { result, calls } = await run('ledger-intent-reused', {
      claimPayment: () => Promise.resolve({ state: 'intent', paymentIntentId: 'pi_recorded' }),
    });
    expect(result).toEqual({ status: 'succeeded', paymentIntentId: 'pi_recorded' });
    expect(calls).toEqual(['claimPayment', 'confirmPaymentIntent', 'publishPaymentEvent']);
  });

  it('a failure the ledger holds is published again without a new decision', async () => {
    const eventId = randomUUID();
    const { result, calls, events } = await run('ledger-failed-replayed', {
      claimPayment: () =>
        Promise.resolve({
          state: 'settled',
          status: 'failed',
          failureReason: 'Card declined',
          announced: true,
          eventId,
        }),
    });
    expect(result).toEqual({ status: 'failed', failureReason: 'Card declined' });
    expect(calls).toEqual(['claimPayment', 'publishPaymentEvent']);
    expect(events[0]).toMatchObject({ status: 'failed', eventId, replayed: true });
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
    expect(calls).toEqual(['claimPayment', 'getPaymentDetails', 'publishPaymentEvent']);
    expect(events[0]).not.toHaveProperty('email');
  });

  it("continues the starter's trace through the workflow into every activity (in-memory exporter)", async () => {
    const { handle } = await run('traced', {}, { traced: true });
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
          'claimPayment',
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

/**
 * The kinds of event a run published, once each. A local activity runs again when its workflow task is
 * rejected (a webhook signal arriving during the final task is enough); the published event id is
 * derived from the run and the kind (services/payment/src/activities.ts), so a repeat is the same event.
 */
const kinds = (events: PaymentEventDraft[]) => [...new Set(events.map((e) => e.status))];

describe('paymentWorkflow and 3-D Secure', () => {
  const needsAction = () =>
    Promise.resolve({
      status: 'requires_action' as const,
      nextAction: { type: 'use_stripe_sdk', clientSecret: 'pi_3ds_secret_x' },
    });
  /** Waits until the workflow published requires_action, then delivers Stripe's event (twice: a redelivery). */
  const webhook =
    (eventId: string) => async (handle: WorkflowHandle<typeof paymentWorkflow>, workflowId: string) => {
      await eventually(() => {
        if (!published.get(workflowId)?.some((e) => e.status === 'requires_action'))
          throw new Error('not waiting for the customer yet');
      });
      await handle.signal(stripeEventSignal, { eventId, type: 'payment_intent.succeeded' });
      await handle
        .signal(stripeEventSignal, { eventId, type: 'payment_intent.succeeded' })
        .catch(() => undefined);
    };

  it('waits for the customer, re-reads the intent on the webhook and is paid; a redelivered event changes nothing', async () => {
    const { result, calls, events, handle } = await run(
      '3ds-authenticated',
      { confirmPaymentIntent: needsAction },
      { during: webhook('evt_3ds_ok') },
    );
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(kinds(events)).toEqual(['requires_action', 'succeeded']);
    expect(events[0]).toMatchObject({
      nextAction: { type: 'use_stripe_sdk', clientSecret: 'pi_3ds_secret_x' },
    });
    // One re-read recorded in history, though Stripe delivered the event twice (a rejected task may run
    // the local read again; only the recorded one counts).
    const markers = ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED,
    );
    const texts = await Promise.all(markers.map(markerText));
    expect(texts.filter((t) => t.includes('getPaymentIntentState'))).toHaveLength(1);
    expect(calls).not.toContain('cancelPaymentIntent');
  });

  it('fails with Stripe’s reason when the customer fails authentication', async () => {
    const { result, calls, events } = await run(
      '3ds-refused',
      {
        confirmPaymentIntent: needsAction,
        getPaymentIntentState: () =>
          Promise.resolve({
            status: 'failed' as const,
            failureReason: 'The provided PaymentMethod has failed authentication.',
          }),
      },
      { during: webhook('evt_3ds_refused') },
    );
    expect(result).toMatchObject({
      status: 'failed',
      failureReason: 'The provided PaymentMethod has failed authentication.',
    });
    expect(kinds(events)).toEqual(['requires_action', 'failed']);
    // Its client secret is public: an intent left open could still be confirmed after the order failed.
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
  });

  it('cancels, and trusts the cancel, when Stripe cannot be read after a webhook', async () => {
    const { result, calls, events } = await run(
      '3ds-unreadable',
      {
        confirmPaymentIntent: needsAction,
        getPaymentIntentState: () =>
          Promise.reject(ApplicationFailure.nonRetryable('Stripe unreachable', 'StripeDown')),
        cancelPaymentIntent: () => Promise.resolve({ status: 'succeeded' as const }),
      },
      { during: webhook('evt_3ds_unreadable') },
    );
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
    expect(kinds(events)).toEqual(['requires_action', 'succeeded']);
  });

  it('cancels the intent when the authentication window closes, and fails the order', async () => {
    const { result, calls, events } = await run(
      '3ds-abandoned',
      { confirmPaymentIntent: needsAction },
      { options: { authTimeoutSeconds: 2 } },
    );
    expect(result).toMatchObject({ status: 'failed', failureReason: 'authentication not completed' });
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
    expect(kinds(events)).toEqual(['requires_action', 'failed']);
  });

  it('is paid when the charge won the race against the cancel', async () => {
    const { result, events } = await run(
      '3ds-late-success',
      {
        confirmPaymentIntent: needsAction,
        cancelPaymentIntent: () => Promise.resolve({ status: 'succeeded' as const }),
      },
      { options: { authTimeoutSeconds: 1 } },
    );
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(kinds(events)).toEqual(['requires_action', 'succeeded']);
  });
});

describe('paymentWorkflow and capture later', () => {
  const manual = { order: { captureMethod: 'manual' as const } };
  const authorizedNow = () => Promise.resolve({ status: 'authorized' as const });
  /** Waits until the workflow published `authorized` (it holds the authorization), then acts. */
  const whenAuthorized =
    (act: (handle: WorkflowHandle<typeof paymentWorkflow>) => Promise<void>) =>
    async (handle: WorkflowHandle<typeof paymentWorkflow>, workflowId: string) => {
      await eventually(() => {
        if (!published.get(workflowId)?.some((e) => e.status === 'authorized'))
          throw new Error('not authorized yet');
      });
      await act(handle);
    };
  const refusalOf = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (err: unknown) =>
        err instanceof WorkflowUpdateFailedError ? (err.cause as Error).message : String(err),
    );

  it('holds the authorization, refuses a capture of more, and captures part once: the rest is released', async () => {
    const refusals: string[] = [];
    const outcomes: unknown[] = [];
    const { result, calls, events, handle } = await run(
      'capture-partial',
      { confirmPaymentIntent: authorizedNow },
      {
        ...manual,
        during: whenAuthorized(async (h) => {
          refusals.push(
            await refusalOf(h.executeUpdate(captureUpdate, { args: [{ requestId: 'a', amount: 5000 }] })),
          );
          outcomes.push(await h.executeUpdate(captureUpdate, { args: [{ requestId: 'b', amount: 3000 }] }));
        }),
      },
    );
    expect(refusals).toEqual(['A capture of 5000 is more than the 4200 eur authorized']);
    expect(outcomes).toEqual([{ status: 'succeeded', capturedAmount: 3000, releasedAmount: 1200 }]);
    expect(result).toMatchObject({ status: 'succeeded', capturedAmount: 3000 });
    expect(calls.filter((c) => c === 'capturePaymentIntent')).toHaveLength(1);
    expect(events.map((e) => [e.status, e.capturedAmount])).toEqual([
      ['authorized', undefined],
      ['succeeded', 3000],
    ]);
    expect(events[0]!.authorizationExpiresAt).toBeDefined();
    // The refused capture left nothing in history: a validator runs before the update is recorded.
    const accepted = ((await handle.fetchHistory()).events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    );
    expect(accepted).toHaveLength(1);
  });

  it('a second capture under another request id is refused while the first one runs', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const answers: unknown[] = [];
    await run(
      'capture-twice',
      {
        confirmPaymentIntent: authorizedNow,
        capturePaymentIntent: async (input) => {
          await slow;
          return { capturedAmount: input.amount ?? 4200, releasedAmount: 0 };
        },
      },
      {
        ...manual,
        during: whenAuthorized(async (h) => {
          const first = h.executeUpdate(captureUpdate, { args: [{ requestId: 'first' }] });
          await sleep(300);
          answers.push(await refusalOf(h.executeUpdate(captureUpdate, { args: [{ requestId: 'second' }] })));
          // Accepted before the first capture is let go: an update still in flight when the
          // workflow closes is aborted by the server, which is not what this test is about.
          const again = await h.startUpdate(captureUpdate, {
            args: [{ requestId: 'first' }],
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          });
          release();
          answers.push(await first, await again.result());
        }),
      },
    );
    expect(answers).toEqual([
      'This payment is captured already (4200 eur); it is captured at most once',
      { status: 'succeeded', capturedAmount: 4200, releasedAmount: 0 },
      { status: 'succeeded', capturedAmount: 4200, releasedAmount: 0 },
    ]);
  });

  it("the customer's cancel voids the authorization: nothing is taken", async () => {
    const { result, calls, events } = await run(
      'capture-voided',
      { confirmPaymentIntent: authorizedNow },
      {
        ...manual,
        during: whenAuthorized(async (h) => {
          expect(await h.executeUpdate(cancelPaymentUpdate, { updateId: 'cancel' })).toEqual({
            status: 'cancelled',
          });
        }),
      },
    );
    expect(result).toMatchObject({ status: 'cancelled' });
    expect(calls).not.toContain('capturePaymentIntent');
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
    expect(kinds(events)).toEqual(['authorized', 'cancelled']);
  });

  it("the merchant's void releases the hold once; a capture asked meanwhile is refused", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const answers: unknown[] = [];
    const { result, calls, events } = await run(
      'capture-operator-void',
      {
        confirmPaymentIntent: authorizedNow,
        cancelPaymentIntent: async () => {
          await slow;
          return { status: 'failed' as const, failureReason: 'Payment was canceled' };
        },
      },
      {
        ...manual,
        during: whenAuthorized(async (h) => {
          const voided = h.executeUpdate(voidUpdate, { updateId: VOID_UPDATE_ID });
          await sleep(300);
          answers.push(await refusalOf(h.executeUpdate(captureUpdate, { args: [{ requestId: 'late' }] })));
          release();
          answers.push(await voided);
        }),
      },
    );
    expect(answers).toEqual([
      'The authorization is being voided: there is nothing to capture',
      { status: 'cancelled' },
    ]);
    expect(result).toMatchObject({ status: 'cancelled' });
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
    expect(calls).not.toContain('capturePaymentIntent');
    expect(kinds(events)).toEqual(['authorized', 'cancelled']);
  });

  it('warns the merchant before the lifetime ends, then voids it by default', async () => {
    const { result, calls, events } = await run(
      'capture-lapsed',
      { confirmPaymentIntent: authorizedNow },
      { ...manual, options: { authorization: { lifetimeSeconds: 4, warningSeconds: 2, onExpiry: 'void' } } },
    );
    expect(result).toMatchObject({ status: 'cancelled', failureReason: 'authorization expired uncaptured' });
    expect(kinds(events)).toEqual(['authorized', 'authorization_expiring', 'cancelled']);
    expect(calls).not.toContain('capturePaymentIntent');
  });

  it('captures all of it at the end of its lifetime when that is the policy', async () => {
    const { result, events } = await run(
      'capture-by-policy',
      { confirmPaymentIntent: authorizedNow },
      {
        ...manual,
        options: { authorization: { lifetimeSeconds: 3, warningSeconds: 1, onExpiry: 'capture' } },
      },
    );
    expect(result).toMatchObject({ status: 'succeeded', capturedAmount: 4200 });
    expect(kinds(events)).toEqual(['authorized', 'authorization_expiring', 'succeeded']);
  });

  it('after 3-D Secure, a capture made in Stripe’s dashboard reaches the order through the webhook', async () => {
    let authenticated = false;
    const { result, events } = await run(
      'capture-3ds-dashboard',
      {
        confirmPaymentIntent: () =>
          Promise.resolve({
            status: 'requires_action' as const,
            nextAction: { type: 'use_stripe_sdk', clientSecret: 'pi_3ds_secret_x' },
          }),
        getPaymentIntentState: () =>
          Promise.resolve(
            authenticated
              ? { status: 'succeeded' as const, capturedAmount: 4000 }
              : { status: 'authorized' as const },
          ),
      },
      {
        ...manual,
        during: async (handle, workflowId) => {
          await eventually(() => {
            if (!published.get(workflowId)?.some((e) => e.status === 'requires_action'))
              throw new Error('waiting');
          });
          await handle.signal(stripeEventSignal, {
            eventId: 'evt_capturable',
            type: 'payment_intent.amount_capturable_updated',
          });
          await whenAuthorized(async (h) => {
            authenticated = true;
            await h.signal(stripeEventSignal, { eventId: 'evt_captured', type: 'payment_intent.succeeded' });
          })(handle, workflowId);
        },
      },
    );
    expect(result).toMatchObject({ status: 'succeeded', capturedAmount: 4000 });
    expect(kinds(events)).toEqual(['requires_action', 'authorized', 'succeeded']);
  });

  it('an order charged at once has nothing to capture', async () => {
    const answers: string[] = [];
    await run(
      'capture-automatic',
      {
        confirmPaymentIntent: async () => {
          await sleep(500);
          return { status: 'succeeded' as const };
        },
      },
      {
        during: async (handle) => {
          answers.push(await refusalOf(handle.executeUpdate(captureUpdate, { args: [{ requestId: 'x' }] })));
        },
      },
    );
    expect(answers).toEqual([
      'This order was charged at once (automatic capture): there is nothing to capture',
    ]);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("paymentWorkflow and the customer's cancel", () => {
  const cancel = (handle: WorkflowHandle<typeof paymentWorkflow>) =>
    handle.executeUpdate(cancelPaymentUpdate, { updateId: 'cancel' });

  it('before the payment started (the cancel starts it): nothing is asked of Stripe, the order is cancelled', async () => {
    // As the payment service does when the cancel overtakes order.create: update-with-start.
    const order = newOrder();
    const workflowId = `payment-${order.orderId}`;
    const outcome = await client.workflow.executeUpdateWithStart(cancelPaymentUpdate, {
      updateId: 'cancel',
      startWorkflowOperation: new WithStartWorkflowOperation(paymentWorkflow, {
        ...paymentStartOptions(order, {}, TASK_QUEUE),
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    const handle = client.workflow.getHandle<typeof paymentWorkflow>(workflowId);
    expect(await handle.result()).toEqual({ status: 'cancelled' });
    await recordHistory(handle, 'payment-cancel-before-start');
    expect(outcome).toEqual({ status: 'cancelled' });
    expect(calls.get(workflowId) ?? []).not.toContain('createPaymentIntent');
    expect(kinds(published.get(workflowId) ?? [])).toEqual(['cancelled']);
  });

  it('while the customer is asked for 3-D Secure: the intent is cancelled, nothing is charged', async () => {
    let outcome: unknown;
    const { result, calls, events } = await run(
      'cancel-during-3ds',
      {
        confirmPaymentIntent: () =>
          Promise.resolve({
            status: 'requires_action' as const,
            nextAction: { type: 'use_stripe_sdk', clientSecret: 'pi_3ds_secret_x' },
          }),
      },
      {
        during: async (handle, workflowId) => {
          await eventually(() => {
            if (!published.get(workflowId)?.length) throw new Error('not waiting for the customer yet');
          });
          outcome = await cancel(handle);
          // A second cancel is the same update: the same answer, no second cancel of the intent.
          expect(await cancel(handle)).toEqual(outcome);
        },
      },
    );
    expect(outcome).toEqual({ status: 'cancelled' });
    expect(result).toMatchObject({ status: 'cancelled' });
    expect(calls.filter((c) => c === 'cancelPaymentIntent')).toHaveLength(1);
    expect(kinds(events)).toEqual(['requires_action', 'cancelled']);
  });

  it('when the charge won the race: paid, then refunded in full, once', async () => {
    let outcome: unknown;
    const { result, events } = await run(
      'cancel-after-charge',
      { confirmPaymentIntent: () => sleep(1000).then(() => ({ status: 'succeeded' as const })) },
      {
        during: async (handle, workflowId) => {
          // Sent while the confirm runs (earlier, the cancel would win before any charge).
          await eventually(() => {
            if (!calls.get(workflowId)?.includes('confirmPaymentIntent'))
              throw new Error('not confirming yet');
          });
          outcome = await cancel(handle);
        },
      },
    );
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(outcome).toEqual({ status: 'refunded', refundedAmount: 4200 });
    expect(stripeLedger(result.paymentIntentId!).refunds).toEqual([
      expect.objectContaining({ amount: 4200, requestKey: expect.stringMatching(/-cancel$/) as unknown }),
    ]);
    expect(events.map((e) => [e.status, e.refundedAmount])).toEqual([
      ['succeeded', undefined],
      ['refunded', 4200],
    ]);
  });
});

describe('refundsWorkflow', () => {
  it('refunds in parts, refuses an over-refund, answers a repeated request with its refund, hears the dashboard', async () => {
    const orderId = randomUUID();
    const paymentIntentId = `pi_${orderId.slice(0, 8)}`;
    const workflowId = `refunds-${orderId}`;
    const starts = refundsStartOptions(orderId, paymentIntentId, TASK_QUEUE);
    const handle = await client.workflow.start(refundsWorkflow, {
      ...starts,
      args: [{ ...starts.args[0], idleSeconds: 3 }],
    });
    const refund = (requestId: string, amount?: number) =>
      handle.executeUpdate(refundUpdate, {
        args: [{ requestId, ...(amount ? { amount } : {}), reason: 'test' }],
        updateId: `refund-${requestId}`,
      });

    const first = await refund('a', 1000);
    expect(first).toEqual({
      status: 'partially_refunded',
      refundId: 're_1',
      amount: 1000,
      refundedAmount: 1000,
    });
    expect(await refund('a', 1000)).toEqual(first);
    // The same request id in a new update (after the first one's answer was lost): still the same refund.
    expect(
      await handle.executeUpdate(refundUpdate, {
        args: [{ requestId: 'a', amount: 1000 }],
        updateId: 'retry-a',
      }),
    ).toEqual(first);
    await expect(refund('b', 4000)).rejects.toMatchObject({
      cause: {
        type: PAYMENT_ERRORS.refundRefused,
        message: expect.stringMatching(/more than the 3200 left/) as unknown,
      },
    });
    await expect(refund('bad', -5)).rejects.toThrow();

    // A refund made in Stripe's dashboard, then its webhook.
    stripeLedger(paymentIntentId).refunds.push({ id: 're_dashboard', amount: 200, created: 5 });
    await handle.signal(stripeEventSignal, { eventId: 'evt_1', type: 'charge.refunded' });
    await eventually(() => {
      if (!published.get(workflowId)?.some((e) => e.refundedAmount === 1200))
        throw new Error('not announced');
    });

    expect(await refund('c')).toMatchObject({ status: 'refunded', amount: 3000, refundedAmount: 4200 });
    await expect(refund('d')).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/in full/) as unknown },
    });
    await handle.result(); // idle for 3 s: done
    await recordHistory(handle, 'refunds-partial-over-dashboard');
    expect(stripeLedger(paymentIntentId).refunds.map((r) => r.amount)).toEqual([1000, 200, 3000]);
    expect(published.get(workflowId)?.map((e) => [e.status, e.refundAmount, e.refundedAmount])).toEqual([
      ['partially_refunded', 1000, 1000],
      ['partially_refunded', 200, 1200],
      ['refunded', 3000, 4200],
    ]);
  });
});

describe('disputeWorkflow', () => {
  const due = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000).toISOString();

  it('tells the order it is disputed, reminds the merchant before the evidence is due, and ends with the decision', async () => {
    const orderId = randomUUID();
    const disputeId = `dp_${orderId.slice(0, 8)}`;
    const workflowId = `dispute-${disputeId}`;
    let stripe = { status: 'needs_response', open: true, evidenceDueBy: due(4) };
    scenarios.set(workflowId, {
      getDispute: () =>
        Promise.resolve({
          id: disputeId,
          reason: 'fraudulent',
          amount: 4200,
          orderId,
          userId: USER,
          paymentIntentId: 'pi_disputed',
          orderAmount: 4200,
          currency: 'eur',
          ...stripe,
          ...(stripe.open ? {} : { evidenceDueBy: undefined }),
        }),
    });
    const handle = await client.workflow.start(
      disputeWorkflow,
      disputeStartOptions({ orderId, disputeId, evidenceWarningSeconds: 2 }, TASK_QUEUE),
    );
    // Reminded two seconds before it is due (a durable timer), then the bank decides and Stripe says so.
    await eventually(() => {
      if (!published.get(workflowId)?.some((e) => e.status === 'dispute_evidence_due'))
        throw new Error('no reminder');
    }, 10_000);
    stripe = { ...stripe, status: 'won', open: false };
    await handle.signal(stripeEventSignal, { eventId: 'evt_closed', type: 'charge.dispute.closed' });
    expect(await handle.result()).toEqual({ status: 'won' });
    await recordHistory(handle, 'dispute-reminded-won');
    expect(published.get(workflowId)?.map((e) => [e.status, e.dispute?.id])).toEqual([
      ['disputed', disputeId],
      ['dispute_evidence_due', disputeId],
      ['dispute_won', disputeId],
    ]);
    expect(published.get(workflowId)?.[0]).toMatchObject({
      orderId,
      amount: 4200,
      paymentIntentId: 'pi_disputed',
    });
  });

  it('a dispute already decided when first heard of is announced opened and closed at once', async () => {
    const orderId = randomUUID();
    const disputeId = `dp_${orderId.slice(0, 8)}`;
    const workflowId = `dispute-${disputeId}`;
    scenarios.set(workflowId, {
      getDispute: () =>
        Promise.resolve({
          id: disputeId,
          status: 'lost',
          reason: 'product_not_received',
          amount: 4200,
          orderId,
          userId: USER,
          paymentIntentId: 'pi_lost',
          orderAmount: 4200,
          currency: 'eur',
          open: false,
        }),
    });
    const handle = await client.workflow.start(
      disputeWorkflow,
      disputeStartOptions({ orderId, disputeId }, TASK_QUEUE),
    );
    expect(await handle.result()).toEqual({ status: 'lost' });
    await recordHistory(handle, 'dispute-lost-at-once');
    expect(kinds(published.get(workflowId) ?? [])).toEqual(['disputed', 'dispute_lost']);
  });

  it('a refund while a dispute is open is refused and nothing is asked of Stripe', async () => {
    const orderId = randomUUID();
    const paymentIntentId = `pi_${orderId.slice(0, 8)}`;
    stripeLedger(paymentIntentId).disputeOpen = true;
    const starts = refundsStartOptions(orderId, paymentIntentId, TASK_QUEUE);
    const handle = await client.workflow.start(refundsWorkflow, {
      ...starts,
      args: [{ ...starts.args[0], idleSeconds: 1 }],
    });
    await expect(
      handle.executeUpdate(refundUpdate, { args: [{ requestId: 'x' }], updateId: 'refund-x' }),
    ).rejects.toMatchObject({
      cause: {
        type: PAYMENT_ERRORS.refundRefused,
        message: expect.stringMatching(/dispute is open/) as unknown,
      },
    });
    await handle.result();
    expect(stripeLedger(paymentIntentId).refunds).toEqual([]);
  });
});
