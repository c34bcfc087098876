import type { KafkaMessage, Producer, ProducerRecord } from 'kafkajs';
import { z } from 'zod';
import { parkedMessage, TOPICS } from '../../src/events';
import { decodeJsonMessage, parkTo, processJsonMessage, type MessageSteps } from '../../src/kafka';
import { createLogger } from '../../src/logger';

// The per-message decision of runJsonConsumer, with our own callbacks recorded: no broker involved.
const schema = z.object({ orderId: z.string(), amount: z.number().int().positive() });
type Order = z.infer<typeof schema>;

function message(value: string | null, offset = '41', key: string | null = 'order-1'): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    offset,
    timestamp: '0',
    attributes: 0,
    headers: {},
  };
}

/** Records, in order, what happened to a message: handled, parked, committed. */
function setup(handle: (value: Order) => Promise<void> = () => Promise.resolve(), sendFails?: Error) {
  const events: string[] = [];
  const sent: ProducerRecord[] = [];
  const producer = {
    send: (record: ProducerRecord) => {
      if (sendFails) return Promise.reject(sendFails);
      sent.push(record);
      events.push('park');
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  const steps: MessageSteps<Order> = {
    schema,
    logger: createLogger('unit', 'silent'),
    handle: async (value) => {
      await handle(value);
      events.push(`handle ${value.orderId}`);
    },
    onInvalid: parkTo(producer, 'notification-group'),
    commit: (offsets) => {
      events.push(`commit ${offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join()}`);
      return Promise.resolve();
    },
  };
  const run = (m: KafkaMessage) => processJsonMessage(steps, 'payment.event', 2, m);
  const parked = () =>
    sent.map((r) => ({
      topic: r.topic,
      key: r.messages[0]?.key,
      value: parkedMessage.parse(JSON.parse(String(r.messages[0]?.value))),
    }));
  return { run, events, parked };
}

describe('processJsonMessage', () => {
  it('handles a valid message, then commits the next offset', async () => {
    const { run, events, parked } = setup();
    await run(message('{"orderId":"o-1","amount":250}'));
    expect(events).toEqual(['handle o-1', 'commit payment.event/2@42']);
    expect(parked()).toEqual([]);
  });

  it('parks malformed JSON to paystream.parked and commits it', async () => {
    const { run, events, parked } = setup();
    await run(message('{"orderId":'));
    expect(events).toEqual(['park', 'commit payment.event/2@42']);
    const [p] = parked();
    expect(p?.topic).toBe(TOPICS.parked);
    expect(p?.key).toBe('order-1');
    expect(p?.value).toEqual({
      topic: 'payment.event',
      partition: 2,
      offset: '41',
      key: 'order-1',
      value: '{"orderId":',
      consumerGroup: 'notification-group',
      reason: expect.stringMatching(/^invalid JSON: /),
      parkedAt: expect.any(String),
    });
  });

  it('parks a schema-invalid message with the failing fields as the reason', async () => {
    const { run, events, parked } = setup();
    await run(message('{"orderId":"o-2","amount":-5}'));
    expect(events).toEqual(['park', 'commit payment.event/2@42']);
    expect(parked()[0]?.value.reason).toMatch(/^amount: /);
  });

  it('parks an empty (tombstone) message without a key under its position', async () => {
    const { run, parked } = setup();
    await run(message(null, '7', null));
    expect(parked()[0]).toMatchObject({
      key: 'payment.event-2-7',
      value: { key: null, value: null, reason: expect.stringMatching(/^invalid JSON/) },
    });
  });

  it('does not commit when the handler fails, so the message is delivered again', async () => {
    const { run, events, parked } = setup(() => Promise.reject(new Error('SMTP down')));
    await expect(run(message('{"orderId":"o-3","amount":1}'))).rejects.toThrow('SMTP down');
    expect(events).toEqual([]);
    expect(parked()).toEqual([]);
  });

  it('does not commit an invalid message it could not park', async () => {
    const { run, events } = setup(undefined, new Error('broker away'));
    await expect(run(message('nope'))).rejects.toThrow('broker away');
    expect(events).toEqual([]);
  });

  it('commits offsets beyond 2^53 exactly', async () => {
    const { run, events } = setup();
    await run(message('{"orderId":"o-4","amount":1}', '9007199254740993'));
    expect(events.at(-1)).toBe('commit payment.event/2@9007199254740994');
  });
});

describe('decodeJsonMessage', () => {
  it('returns the parsed value or why it can never be valid', () => {
    expect(decodeJsonMessage(schema, '{"orderId":"o","amount":1}')).toEqual({
      ok: true,
      value: { orderId: 'o', amount: 1 },
    });
    expect(decodeJsonMessage(schema, '')).toEqual({
      ok: false,
      reason: expect.stringMatching(/^invalid JSON/),
    });
    expect(decodeJsonMessage(schema, '[]')).toEqual({
      ok: false,
      reason: expect.stringMatching(/^\(root\): /),
    });
    const missing = decodeJsonMessage(schema, '{}');
    expect(missing.ok || missing.reason.split('; ').map((r) => r.split(':')[0])).toEqual([
      'orderId',
      'amount',
    ]);
  });
});
