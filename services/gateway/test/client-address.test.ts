import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { signUserToken } from '@paystream/common/auth';
import { trustedProxies } from '@paystream/common/client-address';
import { loadConfig } from '@paystream/common/config';
import { createLogger } from '@paystream/common/logger';
import { registry } from '@paystream/common/metrics';
import express from 'express';
import { nginxBinary } from '../../../stack';
import { serve, type RunningApp } from '../../../test/support';
import { createGatewayApp, type GatewayAppDeps } from '../src/app';
import { redisLimiter, type Limiter } from '../src/limits';
import { createAgent } from '../src/proxy';

/**
 * The client the gateway's limits count, as deployed: behind a real reverse proxy (nginx, as the chart's ingress
 * controller), and across replicas sharing one store (the local stack's Redis).
 */
const cfg = loadConfig();
const JWT_SECRET = 'gateway-test-secret-0123456789abcdef0123456789';
const logger = createLogger('gateway-test', 'silent');

/** A POST from `localAddress` (each 127.0.0.x is another client on loopback). */
function post(
  url: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; seenAs?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', localAddress, agent: false, headers: { 'content-length': '0', ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            seenAs: res.statusCode === 200 ? (JSON.parse(body) as { seenAs: string }).seenAs : undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

let upstream: RunningApp;
const agent = createAgent();
const gateways: RunningApp[] = [];
const limiters: Limiter[] = [];

async function gateway(extra: Partial<GatewayAppDeps>): Promise<RunningApp> {
  const gw = await serve(
    createGatewayApp({
      logger,
      agent,
      userServiceUrl: upstream.url,
      orderServiceUrl: upstream.url,
      paymentServiceUrl: upstream.url,
      notificationServiceUrl: upstream.url,
      timeoutMs: 2000,
      maxBodyBytes: 1024,
      jwtSecret: JWT_SECRET,
      serviceToken: 'gateway-test-service-token',
      rateLimitPerMinute: 4,
      corsOrigins: [],
      ...extra,
    }),
  );
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  upstream = await serve(express().use((req, res) => res.json({ seenAs: req.headers['x-client-address'] })));
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(limiters.map((l) => l.close()));
  await upstream.close();
  agent.destroy();
});

describe('the client behind a real reverse proxy (nginx)', () => {
  let nginx: ChildProcess;
  let proxyUrl: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paystream-nginx-'));

  beforeAll(async () => {
    const gw = await gateway({ trustedProxies: trustedProxies(['127.0.0.1/32']) });
    const port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      `worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${gw.url};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
    );
    nginx = spawn(nginxBinary(), ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    proxyUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      if (
        await fetch(`${proxyUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
  });

  afterAll(() => {
    nginx.kill('SIGQUIT');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the address nginx saw: each client has its own budget, and a forged X-Forwarded-For buys nothing', async () => {
    const url = `${proxyUrl}/users/signin`;
    const a = [];
    for (let i = 0; i < 5; i++) a.push(await post(url, '127.0.0.2', { 'x-forwarded-for': `203.0.113.${i}` }));
    expect(a.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(new Set(a.filter((r) => r.seenAs).map((r) => r.seenAs))).toEqual(new Set(['127.0.0.2']));
    // Another client behind the same proxy is not held to the first one's budget.
    expect(await post(url, '127.0.0.3')).toEqual({ status: 200, seenAs: '127.0.0.3' });
  });
});

describe('limits shared by two gateway replicas (Redis)', () => {
  it('hold across both: a client alternating between them gets the budget once, not twice', async () => {
    const store = `redis://127.0.0.1:${cfg.REDIS_PORT}`;
    const [one, two] = await Promise.all([redisLimiter(store, logger), redisLimiter(store, logger)]);
    limiters.push(one, two);
    const replicas = [await gateway({ limiter: one }), await gateway({ limiter: two })];
    const address = `127.0.${Math.floor(Math.random() * 200) + 10}.${Math.floor(Math.random() * 200) + 10}`;
    const statuses = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await post(`${replicas[i % 2]!.url}/users/signin`, address)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
  });

  it('fail open, counted, when the store is down: the API stays up', async () => {
    const failures = async () =>
      (await registry.getSingleMetric('rate_limit_store_failures_total')?.get())?.values[0]?.value ?? 0;
    const before = await failures();
    const down = await redisLimiter(`redis://127.0.0.1:${await freePort()}`, logger);
    limiters.push(down);
    const gw = await gateway({ limiter: down });
    const token = signUserToken(JWT_SECRET, '6f1c1c56-8d4e-4c4b-9d1e-0a7b3f5d2e11');
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await post(`${gw.url}/orders/create`, '127.0.0.4', { authorization: `Bearer ${token}` })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await failures()).toBeGreaterThanOrEqual(before + 6);
  });
});
