import { openApiDocument, type OperationDoc } from '@paystream/common/openapi';
import { API_KEY_PATTERN, OPERATOR_SCOPES } from '@paystream/common/operator';
import { z } from 'zod';
import { cardSchema } from './domain/cards';
import { PASSWORD_MAX } from './domain/password';

/**
 * The user service's public HTTP contract: the zod schemas its routes validate with, and the OpenAPI
 * operations built from them (served at GET /openapi.json, merged by the gateway under /users).
 * The internal lookups (/get, /contact) are not in it: the gateway never forwards them.
 */
const email = z
  .string()
  .max(254)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.email())
  .meta({ description: 'An email address; compared without case.', examples: ['ada@example.com'] });

export const signupBody = z.strictObject({
  email,
  password: z
    .string()
    .max(PASSWORD_MAX)
    .meta({ description: 'At least 12 characters, not a common one, not the email.' }),
  name: z.string().trim().min(1).max(200),
});
const newPassword = z
  .string()
  .max(PASSWORD_MAX)
  .meta({ description: 'At least 12 characters, not a common one, not the email.' });
const deviceToken = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a deviceToken from a sign-in')
  .meta({
    description:
      'The `deviceToken` of an earlier sign-in on this device: an attack on the account never locks it out.',
  });
const secret = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a token this service issued')
  .meta({ description: 'The token from the link or sign-in (43 characters).' });

export const signinBody = z.strictObject({
  email,
  password: z.string().min(1).max(PASSWORD_MAX),
  deviceToken: deviceToken.optional(),
});
export const refreshBody = z.strictObject({ refreshToken: secret });
export const passwordChangeBody = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX),
  newPassword,
});
export const passwordResetBody = z.strictObject({ email });
export const passwordResetConfirmBody = z.strictObject({ token: secret, newPassword });
export const verifyEmailBody = z.strictObject({ token: secret });
export const emptyBody = z.strictObject({});

export const addPaymentDetailsBody = z
  .strictObject({
    userId: z.string().max(64).optional().meta({ description: 'Optional; if sent, your own id.' }),
    paymentMethodId: z
      .string()
      .regex(/^pm_[A-Za-z0-9_]{1,200}$/, 'must be a Stripe payment method id (pm_...)')
      .optional()
      .meta({
        description: 'From Stripe.js (confirmCardSetup with a SetupIntent from /users/setup-intent).',
      }),
    card: cardSchema
      .optional()
      .meta({ description: 'Raw card fields: test and development only; refused in production.' }),
  })
  .refine((b) => (b.paymentMethodId === undefined) !== (b.card === undefined), {
    message: 'send exactly one of paymentMethodId or card',
  })
  .meta({
    description: 'Exactly one of `paymentMethodId` or `card`.',
    oneOf: [{ required: ['paymentMethodId'] }, { required: ['card'] }],
  });

/** Nothing to send: an empty body or `{}`; any field is refused. */
export const setupIntentBody = z.strictObject({});

const signupAnswer = z.object({
  email: z.string(),
  status: z.literal('verification_sent'),
});
const session = z.object({
  token: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().meta({ description: 'Seconds.' }),
  refreshToken: z.string().meta({ description: 'For POST /users/refresh; single use, rotated.' }),
  userId: z.uuid(),
});
const signinAnswer = session.extend({
  deviceToken: z.string().meta({ description: 'Keep it on this device and send it with the next sign-in.' }),
  emailVerified: z.boolean().meta({ description: 'Payment emails are sent to verified addresses only.' }),
});
const sessionExample = {
  token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…',
  tokenType: 'Bearer',
  expiresIn: 300,
  refreshToken: 'ZXhhbXBsZS1yZWZyZXNoLXRva2VuLWZvci10aGUtZG9',
  userId: '5f0c3e4a-1d2f-4b6e-9a55-0b7f7a0e6a3b',
};
const savedCard = z.object({
  id: z.string(),
  brand: z.string(),
  last4: z.string().regex(/^\d{4}$/),
  expMonth: z.number().int(),
  expYear: z.number().int(),
  isDefault: z.boolean(),
});

/** The gateway asks whether a presented API key is valid (internal). */
export const verifyKeyBody = z.strictObject({ key: z.string().regex(API_KEY_PATTERN) });

/** An operator action, as the services append it (internal). */
export const auditEntryBody = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  keyId: z.string().min(1).max(40),
  keyName: z.string().max(200),
  action: z.string().regex(/^[a-z_.]{1,60}$/),
  target: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
  requestId: z.string().max(200).optional(),
  outcome: z.string().min(1).max(500),
});

export const auditQuery = z.strictObject({
  keyId: z.string().max(40).optional(),
  action: z
    .string()
    .regex(/^[a-z_.]{1,60}$/)
    .optional(),
  target: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'e.g. `order:<orderId>`, `endpoint:<id>`, `key:<id>`.' }),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional()
    .meta({ description: '`nextCursor` of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  keyId: z.string(),
  keyName: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
  outcome: z.string(),
});

const TAG = 'Users';
const rateLimited = 'Too many attempts from this client (Retry-After).';
const operations: OperationDoc[] = [
  {
    method: 'post',
    path: '/signup',
    operationId: 'signUp',
    summary: 'Create an account; a verification link is mailed',
    description:
      'The same answer whether or not the address has an account (its owner is mailed instead), so the API ' +
      'does not tell who is a customer. Sign in right away; payment emails wait for the address to be verified.',
    tag: TAG,
    auth: 'public',
    body: signupBody,
    bodyExample: { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada Lovelace' },
    responses: {
      202: {
        description: 'Accepted; check the inbox.',
        body: signupAnswer,
        example: { email: 'ada@example.com', status: 'verification_sent' },
      },
    },
    problems: { 400: 'Invalid body or a weak password.', 429: rateLimited },
  },
  {
    method: 'post',
    path: '/signin',
    operationId: 'signIn',
    summary: 'Sign in for an access token, a refresh token and a device token',
    tag: TAG,
    auth: 'public',
    body: signinBody,
    bodyExample: { email: 'ada@example.com', password: 'correct horse battery' },
    responses: {
      200: {
        description: 'A short access token for the Authorization header, and what renews it.',
        body: signinAnswer,
        example: {
          ...sessionExample,
          deviceToken: 'YWRhQGV4YW1wbGUuY29tCm5vbmNl.c2lnbmF0dXJl',
          emailVerified: true,
        },
      },
    },
    problems: {
      400: 'Invalid body.',
      401: 'Wrong email or password (the same answer for both).',
      429: rateLimited,
      503: 'Too many sign-ins at once; try again shortly (Retry-After).',
    },
  },
  {
    method: 'post',
    path: '/refresh',
    operationId: 'refreshSession',
    summary: 'A new access token for a refresh token (which is used up and replaced)',
    description:
      'A refresh token used a second time signs its whole family out: whoever copied it, and the owner.',
    tag: TAG,
    auth: 'public',
    body: refreshBody,
    bodyExample: { refreshToken: sessionExample.refreshToken },
    responses: { 200: { description: 'The next session.', body: session, example: sessionExample } },
    problems: { 400: 'Invalid body.', 401: 'Unknown, expired, revoked or reused refresh token.' },
  },
  {
    method: 'post',
    path: '/signout',
    operationId: 'signOut',
    summary: 'Sign this device out (its refresh token and the ones rotated from it)',
    tag: TAG,
    auth: 'public',
    body: refreshBody,
    bodyExample: { refreshToken: sessionExample.refreshToken },
    responses: { 204: { description: 'Signed out (also for a token that was not valid).' } },
    problems: { 400: 'Invalid body.' },
  },
  {
    method: 'post',
    path: '/signout-all',
    operationId: 'signOutEverywhere',
    summary: 'Sign out everywhere: every refresh token of the account',
    description: 'Access tokens already issued end within their lifetime (5 minutes by default).',
    tag: TAG,
    auth: 'user',
    body: emptyBody,
    bodyOptional: true,
    bodyExample: {},
    responses: { 204: { description: 'Every session of the account is revoked.' } },
    problems: { 400: 'A body with fields.' },
  },
  {
    method: 'post',
    path: '/password',
    operationId: 'changePassword',
    summary: 'Change the password (every session is signed out)',
    tag: TAG,
    auth: 'user',
    body: passwordChangeBody,
    bodyExample: { currentPassword: 'correct horse battery', newPassword: 'a new and longer passphrase' },
    responses: { 204: { description: 'Changed; sign in again with the new password.' } },
    problems: {
      400: 'Invalid body or a weak password.',
      401: 'The current password is wrong.',
      429: rateLimited,
    },
  },
  {
    method: 'post',
    path: '/password-reset',
    operationId: 'requestPasswordReset',
    summary: 'Mail a password-reset link (valid 30 minutes, once)',
    description: 'The same answer whether or not the address has an account.',
    tag: TAG,
    auth: 'public',
    body: passwordResetBody,
    bodyExample: { email: 'ada@example.com' },
    responses: { 202: { description: 'If the address has an account, its inbox has the link.' } },
    problems: { 400: 'Invalid body.', 429: rateLimited },
  },
  {
    method: 'post',
    path: '/password-reset/confirm',
    operationId: 'resetPassword',
    summary: 'Set a new password with a reset link’s token (every session is signed out)',
    description: 'The link proves the inbox: the address counts as verified from then on.',
    tag: TAG,
    auth: 'public',
    body: passwordResetConfirmBody,
    bodyExample: { token: sessionExample.refreshToken, newPassword: 'a new and longer passphrase' },
    responses: { 204: { description: 'Changed; sign in with the new password.' } },
    problems: { 400: 'Invalid body, a weak password, or a token that is unknown, used or expired.' },
  },
  {
    method: 'post',
    path: '/verify-email',
    operationId: 'verifyEmail',
    summary: 'Verify the address with the emailed link’s token',
    tag: TAG,
    auth: 'public',
    body: verifyEmailBody,
    bodyExample: { token: sessionExample.refreshToken },
    responses: { 204: { description: 'Verified: payment emails go to it.' } },
    problems: { 400: 'Invalid body, or a token that is unknown, used or expired.' },
  },
  {
    method: 'post',
    path: '/verify-email/resend',
    operationId: 'resendVerification',
    summary: 'Mail a new verification link',
    tag: TAG,
    auth: 'user',
    body: emptyBody,
    bodyOptional: true,
    bodyExample: {},
    responses: { 202: { description: 'Mailed, unless the address is verified already.' } },
    problems: { 400: 'A body with fields.', 429: rateLimited },
  },
  {
    method: 'post',
    path: '/setup-intent',
    operationId: 'createSetupIntent',
    summary: 'Start saving a card with Stripe.js (SetupIntent, 3-D Secure ready)',
    tag: TAG,
    auth: 'user',
    body: setupIntentBody,
    bodyOptional: true,
    bodyExample: {},
    responses: {
      201: {
        description: 'Give `clientSecret` to Stripe.js confirmCardSetup; register the pm_… it yields.',
        body: z.object({ clientSecret: z.string(), setupIntentId: z.string() }),
      },
    },
    problems: {
      400: 'A body with fields.',
      404: 'The account is gone.',
      429: 'Too many asked (Retry-After); an open one is returned again meanwhile.',
      502: 'Stripe is unavailable; try again.',
    },
  },
  {
    method: 'post',
    path: '/add',
    operationId: 'addPaymentDetails',
    summary: 'Save a card as your default payment method',
    tag: TAG,
    auth: 'user',
    body: addPaymentDetailsBody,
    bodyExample: { card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2034, cvc: '123' } },
    responses: {
      201: {
        description: 'Saved; only brand and last 4 are kept.',
        body: savedCard,
        example: { id: 'a3b5…', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034, isDefault: true },
      },
    },
    problems: {
      400: 'Invalid body, or Stripe refused the card details.',
      402: 'The card was declined.',
      403: 'A userId that is not yours.',
      404: 'The account is gone.',
      429: 'Too many cards tried (Retry-After).',
      502: 'Stripe is unavailable; try again.',
    },
  },
  {
    method: 'get',
    path: '/admin/key',
    operationId: 'currentApiKey',
    summary: 'The API key making the request: its id, name and scopes',
    tag: TAG,
    auth: 'operator',
    problems: {},
    responses: {
      200: {
        description: 'The key (never its secret).',
        body: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.enum(OPERATOR_SCOPES)) }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/audit',
    operationId: 'listAudit',
    summary: 'The audit log: who did what, to what, why, with what outcome',
    description:
      'Every operator action (refunds, captures, voids, replays, webhook endpoints, drift resolved) and every API key ' +
      'made or revoked, newest first. Append-only: no API changes or deletes an entry.',
    tag: TAG,
    auth: 'operator',
    scope: 'audit:read',
    query: auditQuery,
    responses: {
      200: {
        description: 'One page; `nextCursor` is null on the last.',
        body: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
      },
    },
    problems: { 400: 'Invalid query.' },
  },
];

export const userApi = openApiDocument({ title: 'Paystream users', version: '1' }, operations);
