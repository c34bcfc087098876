import { clientAddress, requireUser } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { problems } from '@paystream/common/problem';
import { Router, type Request } from 'express';
import { QueryFailedError, type DataSource } from 'typeorm';
import { User } from '../db/entities';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from '../domain/password';
import {
  emptyBody,
  passwordChangeBody,
  passwordResetBody,
  passwordResetConfirmBody,
  refreshBody,
  signinBody,
  signupBody,
  verifyEmailBody,
} from '../api';
import type { AccountLinks } from '../domain/account-links';
import type { AttemptThrottle } from '../domain/attempt-throttle';
import type { DeviceTokens, Sessions } from '../domain/sessions';

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505';

export interface AccountDeps {
  db: DataSource;
  cfg: Config;
  throttle: AttemptThrottle;
  sessions: Sessions;
  devices: DeviceTokens;
  links: AccountLinks;
}

/**
 * Accounts: sign-up (verified by a mailed link), sign-in (device tokens, rotating refresh tokens), sign-out
 * here or everywhere, password change and reset. Public ones are reached through the gateway without a token.
 */
export function accountRoutes({ db, cfg, throttle, sessions, devices, links }: AccountDeps): Router {
  const router = Router();
  const users = db.getRepository(User);
  const client = (req: Request) => clientAddress(req, cfg.SERVICE_TOKEN);
  /** A password the policy refuses is a 400 naming the body's field that held it. */
  const weak = (password: string, email: string, field = 'newPassword') => {
    const problem = passwordProblem(password, email);
    if (problem) throw problems.validation([{ field, message: problem }]);
  };
  /** A new password: stored, and every session of the account ends (in the same transaction). */
  const setPassword = (userId: string, hash: string, verified: boolean) =>
    db.transaction(async (tx) => {
      await tx.query(
        `UPDATE users SET password_hash = $2,
           email_verified_at = CASE WHEN $3 THEN coalesce(email_verified_at, now()) ELSE email_verified_at END
         WHERE id = $1`,
        [userId, hash, verified],
      );
      await sessions.endAll(userId, tx);
    });

  // The answer is the same for a new address and a known one (whose owner is mailed instead), and takes as
  // long: the password is hashed either way.
  router.post('/signup', async (req, res) => {
    const body = validate(signupBody, req.body);
    const signupWait = await throttle.signup(client(req));
    if (signupWait > 0)
      throw problems.rateLimited(signupWait, 'Too many sign-ups from here; try again later');
    weak(body.password, body.email, 'password');
    const passwordHash = await hashPassword(body.password);
    try {
      const user = await users.save(users.create({ email: body.email, name: body.name, passwordHash }));
      await links.send(user.id, 'verify_email');
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const existing = await users.findOneByOrFail({ email: body.email });
      await links.accountExists(existing.id);
    }
    res.status(202).json({ email: body.email, status: 'verification_sent' });
  });

  router.post('/signin', async (req, res) => {
    const body = validate(signinBody, req.body);
    const address = client(req);
    const device = devices.nonceFor(body.deviceToken, body.email);
    // Counted before the hash: a burst of guesses in parallel gets no more hashes than the limit.
    const wait = await throttle.signin(body.email, address, device);
    if (wait > 0) throw problems.rateLimited(wait, 'Too many sign-in attempts; try again later');

    const user = await users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: body.email })
      .getOne();
    // Unknown email and wrong password take the same time and get the same answer.
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw problems.unauthorized('Invalid email or password');
    await throttle.signedIn(body.email, address, device);
    res.json({
      ...(await sessions.start(user.id)),
      deviceToken: devices.issue(body.email),
      emailVerified: user.emailVerifiedAt !== null,
    });
  });

  router.post('/refresh', async (req, res) => {
    const { refreshToken } = validate(refreshBody, req.body);
    res.json(await sessions.refresh(refreshToken));
  });

  router.post('/signout', async (req, res) => {
    const { refreshToken } = validate(refreshBody, req.body);
    await sessions.end(refreshToken);
    res.status(204).end();
  });

  router.post('/signout-all', requireUser(cfg.SERVICE_TOKEN), async (req, res) => {
    validate(emptyBody, req.body ?? {});
    await sessions.endAll(req.userId!);
    req.log.info({ userId: req.userId }, 'signed out everywhere');
    res.status(204).end();
  });

  router.post('/password', requireUser(cfg.SERVICE_TOKEN), async (req, res) => {
    const body = validate(passwordChangeBody, req.body);
    const user = await users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id: req.userId })
      .getOne();
    if (!user) throw problems.unauthorized('The account is gone');
    // Guessing the current password with a stolen token is guessing a password: the sign-in budget applies.
    const wait = await throttle.signin(user.email, client(req));
    if (wait > 0) throw problems.rateLimited(wait, 'Too many attempts; try again later');
    if (!(await verifyPassword(body.currentPassword, user.passwordHash)))
      throw problems.unauthorized('The current password is wrong');
    weak(body.newPassword, user.email);
    await setPassword(user.id, await hashPassword(body.newPassword), false);
    req.log.info({ userId: user.id }, 'password changed; every session ended');
    res.status(204).end();
  });

  router.post('/password-reset', async (req, res) => {
    const { email } = validate(passwordResetBody, req.body);
    const wait = await throttle.passwordReset(email, client(req));
    if (wait > 0) throw problems.rateLimited(wait, 'Too many reset requests; try again later');
    const user = await users.findOneBy({ email });
    if (user) await links.send(user.id, 'reset_password');
    res.status(202).end();
  });

  router.post('/password-reset/confirm', async (req, res) => {
    const body = validate(passwordResetConfirmBody, req.body);
    const userId = await links.use(body.token, 'reset_password');
    if (!userId)
      throw problems.validation([
        { field: 'token', message: 'is unknown, used or expired; ask for a new link' },
      ]);
    const user = await users.findOneByOrFail({ id: userId });
    weak(body.newPassword, user.email);
    await setPassword(userId, await hashPassword(body.newPassword), true);
    req.log.info({ userId }, 'password reset; every session ended');
    res.status(204).end();
  });

  router.post('/verify-email', async (req, res) => {
    const { token } = validate(verifyEmailBody, req.body);
    const userId = await links.use(token, 'verify_email');
    if (!userId)
      throw problems.validation([
        { field: 'token', message: 'is unknown, used or expired; ask for a new link' },
      ]);
    await db.query(`UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1`, [
      userId,
    ]);
    res.status(204).end();
  });

  router.post('/verify-email/resend', requireUser(cfg.SERVICE_TOKEN), async (req, res) => {
    validate(emptyBody, req.body ?? {});
    const wait = await throttle.passwordReset(`verify:${req.userId}`, client(req));
    if (wait > 0) throw problems.rateLimited(wait, 'Too many links asked; try again later');
    const user = await users.findOneBy({ id: req.userId });
    if (user && !user.emailVerifiedAt) await links.send(user.id, 'verify_email');
    res.status(202).end();
  });

  return router;
}
