/**
 * The codec server (`npm run codec-server`): lets the Temporal Web UI show the payloads Paystream
 * encrypts (packages/common/src/payload-codec.ts). The UI posts `{payloads: [...]}` (metadata and data in
 * base64) to /decode from the operator's browser; this process, which holds the keys, answers them
 * decrypted. `./paystream start` runs it on CODEC_SERVER_PORT and the local dev server's UI is started
 * pointing at it (`--ui-codec-endpoint`). It binds to HOST (127.0.0.1) and answers CORS only for the Web
 * UI's origins: in a real deployment it belongs behind the same sign-in as the UI.
 */
import express, { type Express } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { codecKeysFrom } from '@paystream/common/codec-keys';
import { loadConfig } from '@paystream/common/config';
import { AesGcmPayloadCodec } from '@paystream/common/payload-codec';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = ({ metadata = {}, data = '' }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data, 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(data ?? []).toString('base64'),
});

export function codecServerApp(codec: PayloadCodec, allowedOrigins: readonly string[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const origin = req.get('origin');
    if (origin && allowedOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'content-type, x-namespace, authorization');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') res.sendStatus(origin && allowedOrigins.includes(origin) ? 204 : 403);
    else next();
  });
  app.use(express.json({ limit: '4mb' }));
  for (const op of ['encode', 'decode'] as const)
    app.post(`/${op}`, async (req, res) => {
      const body = req.body as { payloads?: unknown };
      if (!Array.isArray(body.payloads)) {
        res.status(400).json({ error: 'expected {payloads: [...]}' });
        return;
      }
      try {
        const payloads = await codec[op]((body.payloads as JsonPayload[]).map(fromJson));
        res.json({ payloads: payloads.map(toJson) });
      } catch {
        // A payload under a key this server lacks, or tampered with: said once, never with its content.
        res.status(400).json({ error: `cannot ${op} these payloads with the keys this server holds` });
      }
    });
  return app;
}

if (require.main === module) {
  const cfg = loadConfig();
  const uiOrigins = [`http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`, `http://localhost:${cfg.TEMPORAL_UI_PORT}`];
  const app = codecServerApp(new AesGcmPayloadCodec(codecKeysFrom(cfg)), uiOrigins);
  app.listen(cfg.CODEC_SERVER_PORT, cfg.HOST, () =>
    console.log(`codec server on http://${cfg.HOST}:${cfg.CODEC_SERVER_PORT} for ${uiOrigins.join(', ')}`),
  );
}
