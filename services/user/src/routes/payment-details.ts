import { clientAddress, requireService, requireUser } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { problems } from '@paystream/common/problem';
import { type Stripe } from '@paystream/common/stripe';
import type { AttemptThrottle } from '../domain/attempt-throttle';
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { User } from '../db/entities';
import { addPaymentDetailsBody } from '../api';
import { defaultPaymentDetails, saveCard, type CardInput } from '../domain/cards';

const uuid = z.uuid();

export function paymentDetailRoutes(
  db: DataSource,
  cfg: Config,
  stripe: Stripe,
  throttle: AttemptThrottle,
): Router {
  const production = cfg.NODE_ENV === 'production';
  const router = Router();

  // POST /add: the signed-in user's own card (the gateway vouches for the user id).
  router.post('/add', requireUser(cfg.SERVICE_TOKEN), async (req, res) => {
    const body = validate(addPaymentDetailsBody, req.body);
    const userId = req.userId!;
    if (body.userId !== undefined && body.userId !== userId)
      throw problems.forbidden('You can only add payment details to your own account');
    // In production card numbers never reach Paystream: Stripe.js turns them into a pm_… in the browser.
    if (body.card && production)
      throw problems.validation([
        {
          field: 'card',
          message: 'send a paymentMethodId (pm_…) from Stripe.js; card numbers are not accepted',
        },
      ]);
    // Counted before Stripe sees the card: trying stolen numbers one after another runs out quickly.
    const wait = await throttle.card(userId, clientAddress(req, cfg.SERVICE_TOKEN));
    if (wait > 0) throw problems.rateLimited(wait, 'Too many cards tried; try again later');
    const input: CardInput = body.card ? { card: body.card } : { paymentMethodId: body.paymentMethodId! };
    // In production a decline says only that: its code helps a card tester more than a customer.
    const saved = await saveCard(db, stripe, userId, input, { declineDetails: !production });
    req.log.info({ userId, brand: saved.brand, last4: saved.last4 }, 'payment method saved');
    res.status(201).json({
      id: saved.id,
      brand: saved.brand,
      last4: saved.last4,
      expMonth: saved.expMonth,
      expYear: saved.expYear,
      isDefault: saved.isDefault,
    });
  });

  // GET /get/:userId: internal, for the payment service. Never routed by the gateway.
  router.get('/get/:userId', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const userId = uuid.safeParse(req.params.userId);
    if (!userId.success) throw problems.notFound('No such user');
    res.json(await defaultPaymentDetails(db, userId.data));
  });

  // GET /contact/:userId: internal, for the notification service, which emails the customer.
  router.get('/contact/:userId', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const userId = uuid.safeParse(req.params.userId);
    const user = userId.success ? await db.getRepository(User).findOneBy({ id: userId.data }) : null;
    if (!user) throw problems.notFound('No such user');
    res.json({
      userId: user.id,
      email: user.email,
      name: user.name,
      verified: user.emailVerifiedAt !== null,
    });
  });

  // GET /internal/users?email=…: internal, for the operator's order search by a customer's address.
  router.get('/internal/users', requireService(cfg.SERVICE_TOKEN), async (req, res) => {
    const raw = typeof req.query.email === 'string' ? req.query.email : '';
    const email = z.email().max(254).safeParse(raw.trim().toLowerCase());
    const user = email.success ? await db.getRepository(User).findOneBy({ email: email.data }) : null;
    if (!user) throw problems.notFound('No such user');
    res.json({ userId: user.id });
  });

  return router;
}
