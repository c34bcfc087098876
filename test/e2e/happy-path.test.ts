import { randomUUID } from 'node:crypto';
import { codecKeysFrom } from '@paystream/common/codec-keys';
import { TOPICS, type PaymentEvent } from '@paystream/common/events';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '@paystream/common/payload-codec';
import type { Payload } from '@temporalio/common';
import { cfg, collectTopic, eventually, mailpit, verifyByMail } from '../support';
import { E2E_PORTS, startE2E, type E2E } from './support';

/**
 * The whole path on the real stack: sign up → add a card → place an order → paid, with exactly one
 * PaymentIntent, one payment.event and one email; the same Idempotency-Key returns the same order.
 */
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E(E2E_PORTS.happyPath);
}, 180_000);

afterAll(() => e2e?.stop());

describe('an order, end to end', () => {
  it('is paid: one PaymentIntent, one payment.event, one email, and its Idempotency-Key returns it again', async () => {
    const { auth, userId, email } = await e2e.customer({ paymentMethodId: 'pm_card_visa' });
    const key = `e2e-${randomUUID()}`;
    const created = await e2e.post(
      '/orders/create',
      { amount: 2599, currency: 'EUR' },
      { ...auth, 'idempotency-key': key },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'pending', amount: 2599, currency: 'eur' });
    const orderId = created.body.orderId as string;
    const events = await collectTopic(TOPICS.paymentEvent, (k) => k === orderId);
    try {
      const final = await e2e.finalStatus(orderId, auth);
      expect(final.status).toBe('paid');

      // The same Idempotency-Key returns the same order, never a second one.
      const again = await e2e.post(
        '/orders/create',
        { amount: 2599, currency: 'eur' },
        { ...auth, 'idempotency-key': key },
      );
      expect(again.status).toBe(200);
      expect(again.body.orderId).toBe(orderId);
      const rows = await e2e.orders.query(`SELECT status FROM orders WHERE user_id = $1`, [userId]);
      expect(rows.rows).toEqual([{ status: 'paid' }]);

      const published = await events.waitFor(1, 20_000, 2000);
      expect(published).toHaveLength(1);
      const event = JSON.parse(published[0]!.value) as PaymentEvent;
      expect(event).toMatchObject({ orderId, userId, status: 'succeeded', amount: 2599, currency: 'eur' });
      expect(event).not.toHaveProperty('email'); // Kafka carries ids, not the customer
      expect(final.paymentIntentId).toBe(event.paymentIntentId);

      const intents = await e2e.intentsFor(orderId);
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({
        id: event.paymentIntentId,
        status: 'succeeded',
        amount: 2599,
        currency: 'eur',
      });

      const handle = e2e.client.workflow.getHandle(`payment-${orderId}`);
      expect((await handle.describe()).status.name).toBe('COMPLETED');

      // ...and the customer is told, once.
      const mails = await eventually(async () => {
        const m = await mailpit.messagesTo(email);
        if (!m.length) throw new Error('no email yet');
        return m;
      });
      expect(mails.map((m) => m.Subject)).toEqual(['Payment received — €25.99']);
    } finally {
      await events.stop();
    }
  });

  it("keeps the customer out of Temporal: every payload of the order's histories is ciphertext the codec opens", async () => {
    const { orderId, email, userId } = await e2e.paidOrder();
    const codec = new AesGcmPayloadCodec(codecKeysFrom(cfg));
    const workflows: string[] = [];
    await eventually(async () => {
      workflows.length = 0;
      for await (const w of e2e.client.workflow.list({ query: `OrderId = '${orderId}'` }))
        workflows.push(w.workflowId);
      if (!workflows.some((id) => id.startsWith('notify-'))) throw new Error('notification not listed yet');
    });
    expect(workflows).toEqual(expect.arrayContaining([`payment-${orderId}`]));
    let opened = '';
    const plaintext: string[] = [];
    for (const id of workflows) {
      const history = await e2e.client.workflow.getHandle(id).fetchHistory();
      for (const { payload, path } of payloadsIn(history)) {
        // Search attributes stay readable for the Web UI's search: the order and user ids, and the SDK's
        // TemporalChangeVersion (the patch ids a run took).
        if (path.includes('searchAttributes')) {
          const value = JSON.parse(Buffer.from(payload.data ?? []).toString()) as unknown;
          if (Array.isArray(value))
            for (const v of value) expect(String(v)).toMatch(/^(payment|notification)-[a-z0-9-]+$/);
          else expect([orderId, userId]).toContain(value);
          continue;
        }
        const encoding = Buffer.from(payload.metadata?.encoding ?? []).toString();
        // The SDK's own bookkeeping is written in clear, by design: the trace context header, patch ids, and
        // a local activity's marker metadata (its type and attempt; its result is encrypted).
        const sdkOwn =
          /header\.fields\._tracer-data$|details\.patch-data\.|markerRecordedEventAttributes\.details\.data\./;
        if (encoding !== ENCRYPTED_ENCODING && !sdkOwn.test(path))
          plaintext.push(`${id}${path}: ${encoding}`);
        const [plain] = await codec.decode([payload]);
        opened += Buffer.from(plain!.data ?? []).toString();
      }
    }
    expect(plaintext).toEqual([]);
    // What the codec opens is the payment (ids, amounts): never the customer's address, name or card.
    expect(opened).toContain(orderId);
    expect(opened).toContain('2599');
    for (const field of [email, '"email"', '"name"', '"last4"', '"brand"', '"expMonth"'])
      expect(opened).not.toContain(field);
  });
});

/** Every Payload in a history (found by shape: metadata + data), with where it sits. */
function payloadsIn(value: unknown, path = ''): { payload: Payload; path: string }[] {
  if (!value || typeof value !== 'object') return [];
  if ('metadata' in value && 'data' in value && (value as Payload).data instanceof Uint8Array)
    return [{ payload: value as Payload, path }];
  return Object.entries(value).flatMap(([k, v]) => payloadsIn(v, `${path}.${k}`));
}

describe('an account, end to end (through the notification service to the inbox)', () => {
  const password = 'end to end test password';

  it('mails nothing about payments to an address nobody verified; once its link is followed, it does', async () => {
    const email = `e2e-unverified-${randomUUID()}@example.test`;
    expect((await e2e.post('/users/signup', { email, password, name: 'Unverified' })).status).toBe(202);
    const signin = await e2e.post('/users/signin', { email, password });
    expect(signin.body.emailVerified).toBe(false);
    const auth = { authorization: `Bearer ${signin.body.token as string}` };
    expect((await e2e.post('/users/add', { paymentMethodId: 'pm_card_visa' }, auth)).status).toBe(201);
    const payAndWait = async () => {
      const created = await e2e.post('/orders/create', { amount: 1200, currency: 'eur' }, auth);
      const orderId = created.body.orderId as string;
      expect((await e2e.finalStatus(orderId, auth)).status).toBe('paid');
      // Its notification workflow completed: the email was decided on, sent or not.
      await eventually(async () => {
        const list = e2e.client.workflow.list({
          query: `OrderId = "${orderId}" AND ExecutionStatus = "Completed"`,
        });
        for await (const wf of list) if (wf.workflowId.startsWith('notify-')) return;
        throw new Error('notification not done yet');
      }, 20_000);
      return orderId;
    };
    const unseen = await payAndWait();
    const payments = (await mailpit.messagesTo(email)).filter((m) => m.Subject.startsWith('Payment'));
    expect({ unseen, payments }).toEqual({ unseen, payments: [] });

    await verifyByMail(e2e.services.url('gateway'), email);
    const seen = await payAndWait();
    await eventually(async () => {
      const mails = await mailpit.messagesTo(email);
      if (!mails.some((m) => m.Snippet.includes(seen))) throw new Error('no payment email yet');
    });
  });

  it('recovers a password by its mailed link: once, sessions ended, and the owner of a known address is told of a sign-up', async () => {
    const { email } = await e2e.customer();
    const first = await e2e.post('/users/signin', { email, password });
    expect(
      (await e2e.post('/users/signup', { email, password: 'another password here', name: 'X' })).status,
    ).toBe(202);
    await eventually(async () => {
      const mails = await mailpit.messagesTo(email);
      if (!mails.some((m) => m.Subject === 'Someone tried to sign up with your address'))
        throw new Error('no notice yet');
    });
    expect((await e2e.post('/users/password-reset', { email })).status).toBe(202);
    const token = await eventually(async () => {
      const [mail] = (await mailpit.messagesTo(email)).filter((m) => m.Subject === 'Reset your password');
      if (!mail) throw new Error('no reset email yet');
      return /#reset=([\w-]{43})/.exec((await mailpit.message(mail.ID)).Text)![1]!;
    });
    const reset = (newPassword: string) => e2e.post('/users/password-reset/confirm', { token, newPassword });
    expect((await reset('a recovered passphrase')).status).toBe(204);
    expect((await reset('a second try with it')).status).toBe(400);
    expect((await e2e.post('/users/refresh', { refreshToken: first.body.refreshToken })).status).toBe(401);
    expect((await e2e.post('/users/signin', { email, password: 'a recovered passphrase' })).status).toBe(200);
  });
});
