import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { parseCodecKeys } from '@paystream/common/codec-keys';
import { AesGcmPayloadCodec } from '@paystream/common/payload-codec';
import { codecServerApp } from '../../temporal/codec-server';

const UI = 'http://127.0.0.1:8233';
const codec = new AesGcmPayloadCodec(parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`));
let base: string;
let close: () => void;

beforeAll(async () => {
  const server = codecServerApp(codec, [UI]).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

const asJson = (p: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

describe('codec server (Temporal Web UI)', () => {
  it('decodes what the services encrypted, as the Web UI asks for it', async () => {
    const sealed = await codec.encode([defaultPayloadConverter.toPayload({ orderId: 'o-1', amount: 2599 })]);
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI, 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: sealed.map(asJson) }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    const { payloads } = (await res.json()) as { payloads: { data: string }[] };
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({
      orderId: 'o-1',
      amount: 2599,
    });
  });

  it('answers CORS for the Web UI only', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-namespace',
        },
      });
    const ui = await preflight(UI);
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('says 400, without content, for payloads it cannot decode or a malformed body', async () => {
    const bad = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          { metadata: { encoding: Buffer.from('binary/encrypted').toString('base64') }, data: 'AAAA' },
        ],
      }),
    });
    expect(bad.status).toBe(400);
    const malformed = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"nope":1}',
    });
    expect(malformed.status).toBe(400);
  });
});
