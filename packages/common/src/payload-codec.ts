import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { codecKeysFrom, type CodecKey } from './codec-keys';

/**
 * Every payload Paystream writes to Temporal (workflow inputs and results, activity arguments and
 * results, signals, updates, memos, failure messages) is encrypted with AES-256-GCM before it leaves the
 * process, so histories, the Web UI and the server's database hold ciphertext. Each encrypted payload
 * names its key (`encryption-key-id`); the first key of PAYLOAD_CODEC_KEYS encrypts, every listed key
 * decrypts, so a key is rotated by putting the new one first and keeping the old one until the histories
 * it wrote have aged out. In development, payloads that are not encrypted (histories from before the codec)
 * pass through; in production they are refused: anyone who can reach Temporal could otherwise hand a workflow
 * a plaintext signal or update that no Paystream process wrote.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(
    keys: CodecKey[],
    private readonly opts: { refusePlaintext?: boolean } = {},
  ) {
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
      if (Buffer.from(payload.metadata?.encoding ?? []).toString() !== ENCRYPTED_ENCODING) {
        if (this.opts.refusePlaintext)
          throw new Error('An unencrypted payload reached a Paystream process: refused (production)');
        return payload;
      }
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

/**
 * The data converter of this deployment's keys (config): every client, worker, replayer and CLI uses it. In
 * production it refuses unencrypted payloads.
 */
export function dataConverterFor(
  cfg: Parameters<typeof codecKeysFrom>[0] & { NODE_ENV?: string },
): DataConverter {
  return paystreamDataConverter(codecKeysFrom(cfg), { refusePlaintext: cfg.NODE_ENV === 'production' });
}

/** Clients, workers and replayers all use this: the same codec and failure converter everywhere. */
export function paystreamDataConverter(
  keys: CodecKey[],
  opts: { refusePlaintext?: boolean } = {},
): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keys, opts)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/** For bundling workflows: the failure converter has to be in the bundle. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
