import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseCodecKeys } from '../../src/codec-keys';
import { AesGcmPayloadCodec, dataConverterFor, ENCRYPTED_ENCODING } from '../../src/payload-codec';

const keyOf = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const K1 = keyOf('k1');
const K2 = keyOf('k2');
const customer = { email: 'ada@example.test', name: 'Ada Lovelace', last4: '4242' };
const payload = defaultPayloadConverter.toPayload(customer);

describe('AesGcmPayloadCodec', () => {
  it('encrypts so nothing of the value shows, names its key, and decrypts to the same payload', async () => {
    const codec = new AesGcmPayloadCodec(parseCodecKeys(K1));
    const [sealed] = await codec.encode([payload]);
    const bytes = Buffer.from(sealed!.data!).toString('latin1');
    for (const text of Object.values(customer)) expect(bytes).not.toContain(text);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
  });

  it('rotates: the first key encrypts, older keys still decrypt what they wrote', async () => {
    const old = await new AesGcmPayloadCodec(parseCodecKeys(K1)).encode([payload]);
    const rotated = new AesGcmPayloadCodec(parseCodecKeys(`${K2},${K1}`));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode(old))[0]!)).toEqual(customer);
    const fresh = await rotated.encode([payload]);
    expect(Buffer.from(fresh[0]!.metadata!['encryption-key-id']!).toString()).toBe('k2');
  });

  it('passes plaintext payloads through in development (histories from before the codec keep replaying)', async () => {
    const codec = new AesGcmPayloadCodec(parseCodecKeys(K1));
    expect(await codec.decode([payload])).toEqual([payload]);
  });

  it('refuses a plaintext payload in production: a signal nobody of ours encrypted never reaches a workflow', async () => {
    const production = dataConverterFor({ PAYLOAD_CODEC_KEYS: K1, NODE_ENV: 'production' });
    const codec = production.payloadCodecs![0]!;
    await expect(codec.decode([payload])).rejects.toThrow(/unencrypted payload/);
    const [opened] = await codec.decode(await codec.encode([payload]));
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
    const development = dataConverterFor({ PAYLOAD_CODEC_KEYS: K1, NODE_ENV: 'development' });
    expect(await development.payloadCodecs![0]!.decode([payload])).toEqual([payload]);
  });

  it('refuses a tampered payload and one under a key it does not hold', async () => {
    const codec = new AesGcmPayloadCodec(parseCodecKeys(K1));
    const [sealed] = await codec.encode([payload]);
    const tampered = Buffer.from(sealed!.data!);
    tampered[20] = tampered[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data: tampered }])).rejects.toThrow();
    await expect(new AesGcmPayloadCodec(parseCodecKeys(K2)).decode([sealed!])).rejects.toThrow(
      /key k1, which this process does not have/,
    );
  });

  it('reads keys as id:base64 and refuses malformed ones', () => {
    expect(parseCodecKeys(`${K2}, ${K1}`).map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => parseCodecKeys('')).toThrow(/no payload codec key/);
    expect(() => parseCodecKeys(`k1:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseCodecKeys(`${K1},${K1}`)).toThrow(/repeat/);
    expect(() => parseCodecKeys(`:${randomBytes(32).toString('base64')}`)).toThrow(/id:base64/);
  });
});
