import { initDataSource } from '@paystream/common/db';
import { createLogger } from '@paystream/common/logger';
import { createStripe } from '@paystream/common/stripe';
import { accountEmailRequest, type AccountEmailRequest } from '@paystream/common/contracts';
import express from 'express';
import type { DataSource } from 'typeorm';
import { createGatewayApp } from '../../gateway/src/app';
import { createAgent } from '../../gateway/src/proxy';
import { createUserApp } from '../src/app';
import { userDataSource } from '../src/db/data-source';
import { cfg, serve, uniqueEmail, type RunningApp } from '../../../test/support';
import { DEFAULT_LIMITS, type ThrottleLimits } from '../src/domain/attempt-throttle';

export const PASSWORD = 'correct horse battery staple';

export interface GatewayAnswer {
  status: number;
  type: string;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface SignedUpUser {
  email: string;
  id: string;
  auth: Record<string, string>;
  refreshToken: string;
  deviceToken: string;
}

export interface UserBehindGateway {
  db: DataSource;
  user: RunningApp;
  gateway: RunningApp;
  /** POST a JSON body (or a raw string) through the gateway; the answer with its JSON parsed. */
  post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<GatewayAnswer>;
  /** A new account, signed in: its email, id, Authorization header, refresh and device tokens. */
  signedUp: (prefix?: string) => Promise<SignedUpUser>;
  /** The account emails the user service asked the notification service for (its HTTP contract), in order. */
  accountEmails: AccountEmailRequest[];
  close: () => Promise<void>;
}

/**
 * The user service on the real Postgres and localstripe, behind the real gateway, both over HTTP.
 * The per-address sign-in limit and the gateway's rate limit are lifted: tests send hundreds of requests
 * from one address, and the limits have tests of their own.
 */
/** The per-client limits lifted (every test client is 127.0.0.1); per account and per user as shipped. */
export const LIFTED_LIMITS: ThrottleLimits = {
  ...DEFAULT_LIMITS,
  perClient: 1_000_000,
  signupsPerClient: 1_000_000,
  cardsPerClient: 1_000_000,
  setupIntentsPerClient: 1_000_000,
  resetsPerClient: 1_000_000,
};

export async function startUserBehindGateway(
  name: string,
  opts: { verified?: boolean } = {},
): Promise<UserBehindGateway> {
  const logger = createLogger(name, 'silent');
  const agent = createAgent();
  const db = await initDataSource(userDataSource(cfg.USER_DATABASE_URL));
  // The notification service's side of the contract, recorded: the e2e accounts test follows the real one
  // to Mailpit; here the user service's own rules are checked.
  const accountEmails: AccountEmailRequest[] = [];
  const notification = await serve(
    express()
      .use(express.json())
      .post('/internal/account-emails', (req, res) => {
        accountEmails.push(accountEmailRequest.parse(req.body));
        res.status(202).end();
      }),
  );
  const user = await serve(
    createUserApp({
      logger,
      db,
      cfg: { ...cfg, NOTIFICATION_SERVICE_URL: notification.url },
      stripe: createStripe(cfg),
      throttleLimits: LIFTED_LIMITS,
    }),
  );
  const gateway = await serve(
    createGatewayApp({
      logger,
      agent,
      userServiceUrl: user.url,
      orderServiceUrl: 'http://127.0.0.1:1',
      paymentServiceUrl: 'http://127.0.0.1:1',
      notificationServiceUrl: 'http://127.0.0.1:1',
      jwtSecret: cfg.JWT_SECRET,
      serviceToken: cfg.SERVICE_TOKEN,
      rateLimitPerMinute: 1_000_000,
      corsOrigins: [],
      timeoutMs: 10_000,
      maxBodyBytes: 64 * 1024,
    }),
  );
  const post: UserBehindGateway['post'] = async (path, body, headers = {}) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: res.headers,
    };
  };
  const signedUp: UserBehindGateway['signedUp'] = async (prefix = 'user') => {
    const email = uniqueEmail(prefix);
    const created = await post('/users/signup', { email, password: PASSWORD, name: 'Ada Lovelace' });
    expect(created.status).toBe(202);
    const signin = await post('/users/signin', { email, password: PASSWORD });
    expect(signin.status).toBe(200);
    if (opts.verified) {
      // The owner follows the emailed link (payment emails go to verified addresses only).
      const mail = accountEmails.find((m) => m.userId === signin.body.userId && m.kind === 'verify_email');
      const token = /#verify=([\w-]{43})$/.exec(mail?.link ?? '')?.[1];
      expect((await post('/users/verify-email', { token })).status).toBe(204);
    }
    return {
      email,
      id: signin.body.userId as string,
      auth: { authorization: `Bearer ${signin.body.token as string}` },
      refreshToken: signin.body.refreshToken as string,
      deviceToken: signin.body.deviceToken as string,
    };
  };
  return {
    db,
    user,
    gateway,
    post,
    signedUp,
    accountEmails,
    close: async () => {
      await gateway.close();
      await user.close();
      await notification.close();
      agent.destroy();
      await db.destroy();
    },
  };
}
