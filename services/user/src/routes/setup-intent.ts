import { clientAddress, requireUser } from '@paystream/common/auth';
import { problems } from '@paystream/common/problem';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { type Stripe } from '@paystream/common/stripe';
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { setupIntentBody } from '../api';
import { createSetupIntent } from '../domain/cards';
import type { AttemptThrottle } from '../domain/attempt-throttle';

export function setupIntentRoutes(
  db: DataSource,
  cfg: Config,
  stripe: Stripe,
  throttle: AttemptThrottle,
): Router {
  const router = Router();

  // POST /setup-intent: a SetupIntent for Stripe.js to collect and authenticate a card; the pm_... it
  // yields is then registered with POST /add.
  router.post('/setup-intent', requireUser(cfg.SERVICE_TOKEN), async (req, res) => {
    validate(setupIntentBody, req.body ?? {});
    const userId = req.userId!;
    const wait = await throttle.setupIntent(userId, clientAddress(req, cfg.SERVICE_TOKEN));
    if (wait > 0) throw problems.rateLimited(wait, 'Too many card set-ups asked; finish the open one');
    const intent = await createSetupIntent(db, stripe, userId);
    req.log.info(
      { userId, setupIntentId: intent.setupIntentId, reused: intent.reused },
      intent.reused ? 'open setup intent returned again' : 'setup intent created',
    );
    res.status(201).json({ clientSecret: intent.clientSecret, setupIntentId: intent.setupIntentId });
  });

  return router;
}
