import fs from 'node:fs';

/**
 * The payload codec's keys (PAYLOAD_CODEC_KEYS), parsed apart from the codec itself so the production
 * checks read them without loading Temporal's protobufs.
 */
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
