import type { KafkaMessage, Producer, ProducerRecord } from 'kafkajs';
import { z } from 'zod';
import { parkedMessage, TOPICS } from '../../src/events';
import {
  decodeJsonMessage,
  parkTo,
  processJsonBatch,
  processJsonMessage,
  type MessageSteps,
} from '../../src/kafka';
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

describe('processJsonBatch', () => {
  const valid = (orderId: string, offset: string) =>
    message(JSON.stringify({ orderId, amount: 1 }), offset, orderId);

  /** A handler that records start/end per message and waits `ms` for the given orders. */
  function batchSetup(
    fail?: string,
    slow: Record<string, number> = {},
    group: Pick<MessageSteps<Order>, 'heartbeat' | 'isRunning'> = {},
  ) {
    const events: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const steps: MessageSteps<Order> = {
      schema,
      logger: createLogger('unit', 'silent'),
      handle: async (value, m) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        events.push(`start ${value.orderId}@${m.offset}`);
        await new Promise((r) => setTimeout(r, slow[value.orderId] ?? 1));
        running--;
        if (value.orderId === fail && m.offset !== '0') throw new Error(`fail ${m.offset}`);
        events.push(`done ${value.orderId}@${m.offset}`);
      },
      onInvalid: () => Promise.resolve(),
      ...group,
      commit: (offsets, settled) => {
        events.push(`commit @${offsets.map((o) => o.offset).join()} [${settled.join()}]`);
        return Promise.resolve();
      },
    };
    const run = (messages: KafkaMessage[], concurrency?: number) =>
      processJsonBatch(steps, 'order.create', 0, messages, concurrency);
    return { run, events, maxRunning: () => maxRunning };
  }

  it('keeps one order in offset order, runs different orders side by side, commits once', async () => {
    const { run, events, maxRunning } = batchSetup(undefined, { a: 20 });
    await run([valid('a', '0'), valid('b', '1'), valid('a', '2'), valid('c', '3')]);
    const a = events.filter((e) => e.includes(' a@'));
    expect(a).toEqual(['start a@0', 'done a@0', 'start a@2', 'done a@2']);
    // b and c finished while a's first message was still running.
    expect(events.indexOf('done b@1')).toBeLessThan(events.indexOf('done a@0'));
    expect(maxRunning()).toBe(3);
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit @4 [0,1,2,3]']);
  });

  it('respects the concurrency bound', async () => {
    const { run, maxRunning } = batchSetup();
    await run(
      ['a', 'b', 'c', 'd', 'e'].map((k, i) => valid(k, String(i))),
      2,
    );
    expect(maxRunning()).toBe(2);
  });

  it('on a failure commits only the settled prefix and throws: the rest is delivered again', async () => {
    const { run, events } = batchSetup('b');
    // b@1 fails; a@0 and c@2 settle, but only offset 0 is before the first unsettled one.
    await expect(run([valid('a', '0'), valid('b', '1'), valid('c', '2')])).rejects.toThrow('fail 1');
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit @1 [0]']);
  });

  it('stops an order at its failed message so its later messages never overtake it', async () => {
    const { run, events } = batchSetup('a');
    await expect(run([valid('a', '0'), valid('a', '1'), valid('a', '2')])).rejects.toThrow('fail 1');
    expect(events).not.toContain('start a@2');
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit @1 [0]']);
  });

  it('heartbeats after every message, so a long batch keeps its place in the group', async () => {
    let beats = 0;
    const { run } = batchSetup(undefined, {}, { heartbeat: () => Promise.resolve(void beats++) });
    await run([valid('a', '0'), valid('b', '1'), valid('a', '2')]);
    expect(beats).toBe(3);
  });

  it('ends the batch when a heartbeat says the group rebalances: settled prefix committed, error thrown', async () => {
    let beats = 0;
    const rebalancing = () =>
      ++beats === 2 ? Promise.reject(new Error('REBALANCE_IN_PROGRESS')) : Promise.resolve();
    const { run, events } = batchSetup(undefined, {}, { heartbeat: rebalancing });
    await expect(
      run(
        ['a', 'b', 'c', 'd'].map((k, i) => valid(k, String(i))),
        1,
      ),
    ).rejects.toThrow('REBALANCE_IN_PROGRESS');
    expect(events.filter((e) => e.startsWith('start'))).toEqual(['start a@0', 'start b@1']);
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit @2 [0,1]']);
  });

  it('starts no new order once the consumer stops, and commits what it finished', async () => {
    let running = true;
    const { run, events } = batchSetup(
      undefined,
      {},
      {
        heartbeat: () => Promise.resolve(void (running = false)),
        isRunning: () => running,
      },
    );
    await run(
      ['a', 'b', 'c'].map((k, i) => valid(k, String(i))),
      1,
    );
    expect(events.filter((e) => e.startsWith('start'))).toEqual(['start a@0']);
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit @1 [0]']);
  });
});

describe('a message whose handler keeps failing', () => {
  it('is delivered again while failures are recent, then parked with its error, and the partition moves on', async () => {
    const { events, parked } = setup();
    const alwaysFails: MessageSteps<Order> = {
      schema,
      logger: createLogger('unit', 'silent'),
      groupId: 'poison-test',
      poison: { attempts: 3, minSeconds: 0 },
      handle: () => Promise.reject(new Error('column "amount" is of type money')),
      onInvalid: (invalid) => {
        events.push(`park ${invalid.message.offset}: ${invalid.reason}`);
        return Promise.resolve();
      },
      commit: (offsets) => {
        events.push(`commit ${offsets.map((o) => o.offset).join()}`);
        return Promise.resolve();
      },
    };
    const poison = message(JSON.stringify({ orderId: 'o-9', amount: 5 }), '70', 'o-9');
    for (let attempt = 1; attempt < 3; attempt++)
      await expect(processJsonBatch(alwaysFails, 'payment.event', 0, [poison])).rejects.toThrow(/money/);
    expect(events).toEqual([]); // nothing committed while it is retried
    await processJsonBatch(alwaysFails, 'payment.event', 0, [poison]);
    expect(events).toEqual([
      'park 70: the handler failed 3 times over 0 s: column "amount" is of type money',
      'commit 71',
    ]);
    expect(parked()).toEqual([]);
  });

  it('is not parked by an outage: failures within minSeconds are retried however many', async () => {
    let down = true;
    const handled: string[] = [];
    const steps: MessageSteps<Order> = {
      schema,
      logger: createLogger('unit', 'silent'),
      groupId: 'outage-test',
      poison: { attempts: 2, minSeconds: 3600 },
      handle: (value) =>
        down
          ? Promise.reject(new Error('Temporal unavailable'))
          : (handled.push(value.orderId), Promise.resolve()),
      onInvalid: () => Promise.reject(new Error('must not park')),
      commit: () => Promise.resolve(),
    };
    const m = message(JSON.stringify({ orderId: 'o-10', amount: 5 }), '80', 'o-10');
    for (let i = 0; i < 5; i++)
      await expect(processJsonBatch(steps, 'payment.event', 0, [m])).rejects.toThrow(/unavailable/);
    down = false;
    await processJsonBatch(steps, 'payment.event', 0, [m]);
    expect(handled).toEqual(['o-10']);
  });
});
