import { clientAddress, signUserToken } from '@paystream/common/auth';
import { type Config } from '@paystream/common/config';
import { validate } from '@paystream/common/http';
import { problems } from '@paystream/common/problem';
import { Router } from 'express';
import { QueryFailedError, type DataSource } from 'typeorm';
import { User } from '../db/entities';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from '../domain/password';
import { signinBody, signupBody } from '../api';
import type { AttemptThrottle } from '../domain/attempt-throttle';

export const TOKEN_TTL_SECONDS = 15 * 60;

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505';

/** POST /signup and POST /signin: public, reached through the gateway without a token. */
export function accountRoutes(db: DataSource, cfg: Config, throttle: AttemptThrottle): Router {
  const router = Router();
  const users = db.getRepository(User);

  router.post('/signup', async (req, res) => {
    const body = validate(signupBody, req.body);
    const signupWait = await throttle.signup(clientAddress(req, cfg.SERVICE_TOKEN));
    if (signupWait > 0)
      throw problems.rateLimited(signupWait, 'Too many sign-ups from here; try again later');
    const weak = passwordProblem(body.password, body.email);
    if (weak) throw problems.validation([{ field: 'password', message: weak }]);
    try {
      const user = await users.save(
        users.create({ email: body.email, name: body.name, passwordHash: await hashPassword(body.password) }),
      );
      res.status(201).json({ id: user.id, email: user.email, name: user.name, createdAt: user.createdAt });
    } catch (err) {
      if (isUniqueViolation(err)) throw problems.conflict('An account with this email already exists');
      throw err;
    }
  });

  router.post('/signin', async (req, res) => {
    const body = validate(signinBody, req.body);
    const address = clientAddress(req, cfg.SERVICE_TOKEN);
    // Counted before the hash: a burst of guesses in parallel gets no more hashes than the limit.
    const wait = await throttle.signin(body.email, address);
    if (wait > 0) throw problems.rateLimited(wait, 'Too many sign-in attempts; try again later');

    const user = await users
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: body.email })
      .getOne();
    // Unknown email and wrong password take the same time and get the same answer.
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw problems.unauthorized('Invalid email or password');
    await throttle.signedIn(body.email, address);
    res.json({
      token: signUserToken(cfg.JWT_SECRET, user.id, TOKEN_TTL_SECONDS),
      tokenType: 'Bearer',
      expiresIn: TOKEN_TTL_SECONDS,
      userId: user.id,
    });
  });

  return router;
}
