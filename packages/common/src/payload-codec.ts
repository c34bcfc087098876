import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Every payload Paystream writes to Temporal (workflow inputs and results, activity arguments and
 * results, signals, updates, memos, failure messages) is encrypted with AES-256-GCM before it leaves the
 * process, so histories, the Web UI and the server's database hold ciphertext. Each encrypted payload
 * names its key (`encryption-key-id`); the first key of PAYLOAD_CODEC_KEYS encrypts, every listed key
 * decrypts, so a key is rotated by putting the new one first and keeping the old one until the histories
 * it wrote have aged out. Payloads that are not encrypted (histories from before the codec) pass through.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** `id:base64,id:base64` — 32-byte keys, the first one encrypts (e.g. `k2:$(openssl rand -base64 32),k1:…`). */
export function parseCodecKeys(spec: string): CodecKey[] {
  const keys = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, material] = entry.split(':', 2);
      const key = Buffer.from(material ?? '', 'base64');
      // Never echoed when malformed: in a bare key (no `id:`) the "id" is the secret.
      if (!id || material === undefined || !/^[A-Za-z0-9_.-]{1,32}$/.test(id))
        throw new Error('a payload codec key is not `id:base64` (id: up to 32 of A-Z a-z 0-9 _ . -)');
      if (key.length !== 32) throw new Error(`payload codec key ${id} is not 32 bytes of base64`);
      return { id, key };
    });
  if (!keys.length) throw new Error('no payload codec key');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('payload codec key ids repeat');
  return keys;
}

/** The keys from PAYLOAD_CODEC_KEYS_FILE when set (a mounted secret), else from PAYLOAD_CODEC_KEYS. */
export function codecKeysFrom(cfg: {
  PAYLOAD_CODEC_KEYS: string;
  PAYLOAD_CODEC_KEYS_FILE?: string | undefined;
}) {
  const spec = cfg.PAYLOAD_CODEC_KEYS_FILE
    ? fs.readFileSync(cfg.PAYLOAD_CODEC_KEYS_FILE, 'utf8')
    : cfg.PAYLOAD_CODEC_KEYS;
  return parseCodecKeys(spec);
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(keys: CodecKey[]) {
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  // async: a failure is a rejected promise, as the SDK expects, never a throw.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID]: Buffer.from(this.current.id),
        },
        data: sealed,
      };
    });
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) return payload;
      const id = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.byId.get(id);
      if (!key) throw new Error(`payload encrypted with key ${id}, which this process does not have`);
      const data = Buffer.from(payload.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter of this deployment's keys (config): every client, worker, replayer and CLI uses it. */
export function dataConverterFor(cfg: Parameters<typeof codecKeysFrom>[0]): DataConverter {
  return paystreamDataConverter(codecKeysFrom(cfg));
}

/** Clients, workers and replayers all use this: the same codec and failure converter everywhere. */
export function paystreamDataConverter(keys: CodecKey[]): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keys)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/** For bundling workflows: the failure converter has to be in the bundle. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
